/**
 * The fake Discord's buttons, modals and message commands against the REAL discord.js v14: a
 * message with an action row, a press (MESSAGE_COMPONENT) answered with deferUpdate or showModal,
 * the modal submit (MODAL_SUBMIT, label + checkbox and the legacy action-row form), a message
 * context-menu command registered with ContextMenuCommandBuilder, and the limits Discord enforces.
 * Same load order as discord.test.ts: undici 7 and Bolt before discord.js.
 */
import type { ButtonInteraction, Client, Interaction, ModalSubmitInteraction } from "discord.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { discordRestRequest } from "../../adapters/discord/rest.js";
import { FakeDiscord } from "../fakes/discord.js";
import { nextEvent } from "../fakes/discord-client-events.js";

const undici = await import("undici");
await import("@slack/bolt");
const discord = await import("discord.js");
const {
  ActionRowBuilder,
  ApplicationCommandType,
  ButtonBuilder,
  ButtonStyle,
  CheckboxBuilder,
  ContextMenuCommandBuilder,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  LabelBuilder,
  MessageFlags,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
} = discord;

let fake: FakeDiscord;
let client: Client<true>;
const agent = new undici.Agent();

const nextInteraction = <T extends Interaction>(accept: (i: Interaction) => i is T): Promise<T> =>
  nextEvent(client, Events.InteractionCreate, (i) => accept(i)).then(([i]) => i as T);

async function postWithButtons(ids: string[]): Promise<string> {
  const channel = await client.channels.fetch(fake.channel().id);
  if (!channel?.isSendable()) throw new Error("channel not sendable");
  const row = new ActionRowBuilder<InstanceType<typeof ButtonBuilder>>().addComponents(
    ids.map((id) =>
      new ButtonBuilder()
        .setCustomId(id)
        .setLabel(id.split(":")[1] ?? id)
        .setStyle(ButtonStyle.Secondary),
    ),
  );
  const sent = await channel.send({ content: "1/1", components: [row] });
  return sent.id;
}

beforeAll(async () => {
  fake = await FakeDiscord.start();
  // No Message Content intent: the message command must still see the target's attachments.
  client = new discord.Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
    rest: { api: fake.apiUrl, makeRequest: discordRestRequest(agent) },
  }) as Client<true>;
  const ready = nextEvent(client, Events.ClientReady);
  await client.login(fake.token);
  await ready;
});
afterAll(async () => {
  await client.destroy();
  await fake.close();
  await agent.close();
});
beforeEach(() => {
  fake.messages.skipToEnd();
  fake.edits.skipToEnd();
});

describe("buttons and modals through real discord.js", () => {
  it("stores a message's action row and delivers a press; deferUpdate is callback 6 and follow-ups work", async () => {
    const messageId = await postWithButtons(["seedream:again:r1:0", "seedream:vary:r1:0"]);
    const posted = await fake.messages.waitFor((m) => m.messageId === messageId);
    expect(posted.components).toMatchObject([
      {
        type: 1,
        components: [{ type: 2, custom_id: "seedream:again:r1:0" }, { custom_id: "seedream:vary:r1:0" }],
      },
    ]);

    const pressed = nextInteraction((i): i is ButtonInteraction => i.isButton());
    const state = await fake.pressButton({ messageId, customId: "seedream:vary:r1:0", user: "bob" });
    const interaction = await pressed;
    expect(interaction.customId).toBe("seedream:vary:r1:0");
    expect(interaction.message.id).toBe(messageId);
    expect(interaction.user.username).toBe("bob");
    await interaction.deferUpdate();
    await interaction.followUp({ content: "only you see this", flags: MessageFlags.Ephemeral });
    await interaction.message.reply({ content: "a reply to the pressed message" });

    expect(fake.interactions.callbacks.all.filter((c) => c.interactionId === state.id)).toMatchObject([
      { type: 6, late: false },
    ]);
    expect(await fake.messages.waitFor((m) => m.content === "only you see this")).toMatchObject({
      flags: 64,
    });
    expect(await fake.messages.waitFor((m) => m.content === "a reply to the pressed message")).toMatchObject({
      replyTo: messageId,
    });
  });

  it("refuses a press of a button the message does not have", async () => {
    const messageId = await postWithButtons(["seedream:again:r2:0"]);
    await expect(fake.pressButton({ messageId, customId: "seedream:edit:r2:0" })).rejects.toThrow(
      /no button/,
    );
  });

  it("shows a modal (label + text input + checkbox) and delivers its submit with the pressed message", async () => {
    const messageId = await postWithButtons(["seedream:edit:r3:1"]);
    const pressed = nextInteraction((i): i is ButtonInteraction => i.isButton());
    const press = await fake.pressButton({ messageId, customId: "seedream:edit:r3:1" });
    const interaction = await pressed;
    const modal = new ModalBuilder()
      .setCustomId("seedream:edit:r3:1")
      .setTitle("Edit this image")
      .addLabelComponents(
        new LabelBuilder()
          .setLabel("What should change?")
          .setTextInputComponent(
            new TextInputBuilder()
              .setCustomId("prompt")
              .setStyle(TextInputStyle.Paragraph)
              .setMaxLength(1800),
          ),
        new LabelBuilder()
          .setLabel("Keep the other references")
          .setCheckboxComponent(new CheckboxBuilder().setCustomId("keep")),
      );
    await interaction.showModal(modal);
    expect(fake.interactions.get(press.id)?.modal).toMatchObject({
      customId: "seedream:edit:r3:1",
      fields: [{ customId: "prompt", required: true }, { customId: "keep" }],
    });

    const submitted = nextInteraction((i): i is ModalSubmitInteraction => i.isModalSubmit());
    const submit = await fake.submitModal({
      modalOf: press.id,
      values: { prompt: "make it night", keep: true },
    });
    const modalSubmit = await submitted;
    expect(modalSubmit.customId).toBe("seedream:edit:r3:1");
    expect(modalSubmit.fields.getTextInputValue("prompt")).toBe("make it night");
    expect(modalSubmit.fields.getCheckbox("keep")).toBe(true);
    expect(modalSubmit.message?.id).toBe(messageId);
    expect(modalSubmit.isFromMessage()).toBe(true);
    await modalSubmit.deferUpdate();
    expect(fake.interactions.callbacks.all.filter((c) => c.interactionId === submit.id)).toMatchObject([
      { type: 6 },
    ]);
  });

  it("accepts the legacy modal form (text input in an action row)", async () => {
    const messageId = await postWithButtons(["seedream:edit:r4:0"]);
    const pressed = nextInteraction((i): i is ButtonInteraction => i.isButton());
    const press = await fake.pressButton({ messageId, customId: "seedream:edit:r4:0" });
    const interaction = await pressed;
    const input = new TextInputBuilder()
      .setCustomId("prompt")
      .setLabel("Prompt")
      .setStyle(TextInputStyle.Short);
    await interaction.showModal(
      new ModalBuilder()
        .setCustomId("seedream:edit:r4:0")
        .setTitle("Edit")
        .addComponents(new ActionRowBuilder<InstanceType<typeof TextInputBuilder>>().addComponents(input)),
    );
    const submitted = nextInteraction((i): i is ModalSubmitInteraction => i.isModalSubmit());
    await fake.submitModal({ modalOf: press.id, values: { prompt: "legacy" } });
    expect((await submitted).fields.getTextInputValue("prompt")).toBe("legacy");
  });

  it("registers a message command next to a slash command and hands over the target with its attachments", async () => {
    await client.application.commands.set([
      { name: "imagine", description: "Generate", options: [] },
      new ContextMenuCommandBuilder()
        .setName("Edit with Seedream")
        .setType(ApplicationCommandType.Message)
        .toJSON(),
    ]);
    expect(fake.commands.registrations.all.at(-1)?.commands.map((c) => [c.name, c.type])).toEqual([
      ["imagine", 1],
      ["Edit with Seedream", 3],
    ]);
    const photo = fake.hostAttachment({
      name: "photo.png",
      contentType: "image/png",
      bytes: Buffer.from("89504e470d0a1a0a00", "hex"),
    });
    // Bob's message does not mention the bot: without Message Content the gateway strips it…
    const target = await fake.sendMessageCreate({ author: "bob", content: "my photo", attachments: [photo] });

    const invoked = nextInteraction((i) => i.isMessageContextMenuCommand());
    const state = await fake.invokeMessageCommand({ name: "Edit with Seedream", messageId: target.id });
    const interaction = await invoked;
    if (!interaction.isMessageContextMenuCommand()) throw new Error("unreachable");
    // …but the interaction carries the whole message.
    expect(interaction.commandName).toBe("Edit with Seedream");
    expect(interaction.targetMessage.id).toBe(target.id);
    expect(interaction.targetMessage.attachments.map((a) => a.name)).toEqual(["photo.png"]);
    expect(interaction.targetMessage.content).toBe("my photo");

    const modal = new ModalBuilder()
      .setCustomId(`seedream:edit:m:${state.id}`)
      .setTitle("Edit with Seedream")
      .addLabelComponents(
        new LabelBuilder()
          .setLabel("Prompt")
          .setTextInputComponent(
            new TextInputBuilder().setCustomId("prompt").setStyle(TextInputStyle.Paragraph),
          ),
      );
    await interaction.showModal(modal);
    const submitted = nextInteraction((i): i is ModalSubmitInteraction => i.isModalSubmit());
    const submit = await fake.submitModal({ modalOf: state.id, values: { prompt: "as a watercolour" } });
    const modalSubmit = await submitted;
    expect(modalSubmit.isFromMessage()).toBe(false);
    // No message to update: a deferUpdate is refused, a deferred reply is what Discord allows.
    await modalSubmit.deferReply({ flags: MessageFlags.Ephemeral });
    expect(fake.interactions.callbacks.all.filter((c) => c.interactionId === submit.id)).toMatchObject([
      { type: 5 },
    ]);
  });

  it("enforces Discord's limits: a 101-character custom_id, six buttons in a row, a modal answered with a modal", async () => {
    const channel = await client.channels.fetch(fake.channel().id);
    if (!channel?.isSendable()) throw new Error("channel not sendable");
    const tooLong = { type: 1, components: [{ type: 2, style: 2, label: "x", custom_id: "x".repeat(101) }] };
    await expect(channel.send({ content: "x", components: [tooLong] })).rejects.toBeInstanceOf(
      DiscordAPIError,
    );
    const six = {
      type: 1,
      components: Array.from({ length: 6 }, (_, i) => ({
        type: 2,
        style: 2,
        label: "x",
        custom_id: `b${i}`,
      })),
    };
    await expect(channel.send({ content: "x", components: [six] })).rejects.toMatchObject({ code: 50035 });
    const duplicate = {
      type: 1,
      components: [
        { type: 2, style: 2, label: "a", custom_id: "same" },
        { type: 2, style: 2, label: "b", custom_id: "same" },
      ],
    };
    await expect(channel.send({ content: "x", components: [duplicate] })).rejects.toMatchObject({
      code: 50035,
    });

    const messageId = await postWithButtons(["seedream:edit:r5:0"]);
    const pressed = nextInteraction((i): i is ButtonInteraction => i.isButton());
    const press = await fake.pressButton({ messageId, customId: "seedream:edit:r5:0" });
    const modal = () =>
      new ModalBuilder()
        .setCustomId("seedream:edit:r5:0")
        .setTitle("Edit")
        .addLabelComponents(
          new LabelBuilder()
            .setLabel("Prompt")
            .setTextInputComponent(new TextInputBuilder().setCustomId("prompt").setStyle(1)),
        );
    await (await pressed).showModal(modal());
    const submitted = nextInteraction((i): i is ModalSubmitInteraction => i.isModalSubmit());
    const submit = await fake.submitModal({ modalOf: press.id, values: { prompt: "again" } });
    await submitted;
    // Discord allows no modal in answer to a modal submit (discord.js would not even try).
    await expect(
      client.rest.post(discord.Routes.interactionCallback(submit.id, submit.token), {
        body: { type: 9, data: modal().toJSON() },
        auth: false,
      }),
    ).rejects.toMatchObject({ code: 50035 });
  });

  it("updates the pressed message with callback 7 (a Cancel that removes its own button)", async () => {
    const messageId = await postWithButtons(["seedream:cancel:r6"]);
    const pressed = nextInteraction((i): i is ButtonInteraction => i.isButton());
    await fake.pressButton({ messageId, customId: "seedream:cancel:r6" });
    await (await pressed).update({ content: "Cancelled.", components: [] });
    const edit = await fake.edits.waitFor((e) => e.messageId === messageId);
    expect(edit).toMatchObject({ content: "Cancelled.", components: [] });
  });
});

/**
 * A fake Discord on 127.0.0.1 that the real discord.js logs in to: REST under `/api/v10`, a JSON
 * WebSocket gateway on the same port, and a CDN serving attachment bytes. Point the client at it
 * with `rest: { api: fake.apiUrl }`; discord.js then finds the gateway through `/gateway/bot`.
 *
 *   const fake = await FakeDiscord.start();
 *   const client = new Client({ intents, rest: { api: fake.apiUrl } });
 *   await client.login(fake.token);
 *   await fake.sendMessageCreate({ content: `${fake.mention(fake.bot.id)} a cat` });
 *   const reply = await fake.nextMessage();
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIAttachment, APIMessage, APIRole, APITextChannel, APIUser } from "discord.js";
import { FakeCdn, type HostAttachmentInput } from "./discord-cdn.js";
import { ChannelRoutes } from "./discord-channels.js";
import { CommandRegistry } from "./discord-commands.js";
import { FakeGateway } from "./discord-gateway.js";
import { sendUserMessage, type UserMessageInput } from "./discord-incoming.js";
import {
  type ButtonPressInput,
  type InteractionState,
  Interactions,
  type MessageCommandInput,
  type ModalSubmitInput,
  type SlashCommandInput,
} from "./discord-interactions.js";
import { MessageWriter, type PostedMessage } from "./discord-messages.js";
import type { PermissionName } from "./discord-permissions.js";
import type { WaitOptions } from "./discord-recorder.js";
import { API_PREFIX, type InjectedFault, RestApi } from "./discord-rest.js";
import { World, type WorldOptions } from "./discord-state.js";

export type { HostAttachmentInput } from "./discord-cdn.js";
export { Intent } from "./discord-gateway.js";
export type { RecordedFile, RecordedRequest } from "./discord-http.js";
export type { UserMessageInput } from "./discord-incoming.js";
export type {
  ButtonPressInput,
  CallbackRecord,
  InteractionState,
  MessageCommandInput,
  ModalSubmitInput,
  SlashCommandInput,
} from "./discord-interactions.js";
export type { PostedAttachment, PostedMessage } from "./discord-messages.js";
export type { PermissionName } from "./discord-permissions.js";
export type { InjectedFault } from "./discord-rest.js";

export interface FakeDiscordOptions extends WorldOptions {
  /** The bot token the fake accepts; default `fake-discord-bot-token`. */
  token?: string;
  /** Hello's heartbeat_interval; default Discord's 41250. Lower it to see heartbeats in a test. */
  heartbeatIntervalMs?: number;
  /** Per-file upload limit (413 / code 40005 above it); default 10 MiB, Discord's limit for bots. */
  uploadLimitBytes?: number;
  /** Window for the first interaction callback (then 404 Unknown interaction); default 3000 ms. */
  interactionDeadlineMs?: number;
  /** False models a bot whose Message Content intent is not enabled in the portal (close 4014). */
  messageContentAllowed?: boolean;
}

export class FakeDiscord {
  readonly world: World;
  readonly token: string;
  readonly cdn: FakeCdn;
  readonly gateway: FakeGateway;
  readonly rest: RestApi;
  readonly commands: CommandRegistry;
  readonly interactions: Interactions;
  readonly #writer: MessageWriter;
  readonly #channels: ChannelRoutes;
  readonly #server: Server;
  #port = 0;

  private constructor(options: FakeDiscordOptions) {
    this.world = new World(options);
    this.token = options.token ?? "fake-discord-bot-token";
    this.cdn = new FakeCdn(
      () => this.url,
      () => this.world.ids.next(),
      () => this.world.guilds[0]?.channels[0]?.id ?? "0",
    );
    this.world.cdn = this.cdn;
    this.gateway = new FakeGateway(this.world, {
      token: this.token,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      messageContentAllowed: options.messageContentAllowed ?? true,
      url: () => this.gatewayUrl,
    });
    this.#writer = new MessageWriter(this.world, this.cdn, {
      uploadLimitBytes: options.uploadLimitBytes ?? 10 * 1024 * 1024,
    });
    this.commands = new CommandRegistry(this.world);
    this.interactions = new Interactions(
      this.world,
      this.commands,
      this.#writer,
      this.gateway,
      options.interactionDeadlineMs ?? 3000,
    );
    this.#channels = new ChannelRoutes(this.world, this.#writer, this.gateway, {
      url: () => this.gatewayUrl,
    });
    this.rest = new RestApi(
      [...this.#channels.routes(), ...this.commands.routes(), ...this.interactions.routes()],
      this.token,
    );
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", this.url);
      if (url.pathname.startsWith(`${API_PREFIX}/`)) {
        this.rest.handle(req, res, url).catch((error: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ message: `fake Discord crashed: ${String(error)}`, code: 0 }));
        });
        return;
      }
      const served = this.cdn.serve(url.pathname, url.searchParams);
      res.writeHead(served?.status ?? 404, { "content-type": served?.contentType ?? "text/plain" });
      res.end(served?.body ?? "Not Found");
    });
    this.#server.on("upgrade", (req, socket, head) => this.gateway.handleUpgrade(req, socket, head));
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    await new Promise<void>((resolve) => fake.#server.listen(0, "127.0.0.1", resolve));
    fake.#port = (fake.#server.address() as AddressInfo).port;
    return fake;
  }

  /** `http://127.0.0.1:PORT`: also the CDN host attachment URLs point at. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** What discord.js takes as `rest.api` (and the adapter as DISCORD_API_URL). */
  get apiUrl(): string {
    return `${this.url}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.#port}`;
  }

  get bot(): APIUser {
    return this.world.bot;
  }

  get applicationId(): string {
    return this.world.applicationId;
  }

  get guild(): { id: string; name: string } {
    const guild = this.world.guilds[0];
    if (!guild) throw new Error("fake Discord: no guild configured");
    return { id: guild.id, name: guild.name };
  }

  channel(name = "general"): APITextChannel {
    return this.world.channel(name);
  }

  user(name: string): APIUser {
    return this.world.user(name);
  }

  role(name: string): APIRole {
    return this.world.role(name);
  }

  /** The DM channel id between the bot and a user. */
  dmChannelId(username: string): string {
    return this.world.dmWith(this.world.user(username).id).id;
  }

  /** `<@id>` (a user) or `<@&id>` (a role), as a client types a mention. */
  mention(target: APIUser | APIRole | string): string {
    if (typeof target === "string") return `<@${target}>`;
    return "username" in target ? `<@${target.id}>` : `<@&${target.id}>`;
  }

  hostAttachment(input: HostAttachmentInput): APIAttachment {
    return this.cdn.attachment(this.cdn.host(input).id);
  }

  /** Old URLs of that attachment (or of all) now 404; a message fetch returns working ones. */
  expireAttachmentLinks(attachmentId?: string): void {
    this.cdn.expire(attachmentId);
  }

  /** A user's message, dispatched as MESSAGE_CREATE (gated by intents, content stripped as Discord does). */
  sendMessageCreate(input: UserMessageInput = {}): Promise<APIMessage> {
    return sendUserMessage(this.world, this.gateway, input);
  }

  /** A slash command invocation of a registered command, dispatched as INTERACTION_CREATE. */
  sendInteractionCreate(input: SlashCommandInput): Promise<InteractionState> {
    return this.interactions.invoke(input);
  }

  /** A press of a button on a message, dispatched as INTERACTION_CREATE (type 3). */
  pressButton(input: ButtonPressInput): Promise<InteractionState> {
    return this.interactions.pressButton(input);
  }

  /** The user submits the modal an interaction answered with (type 5). */
  submitModal(input: ModalSubmitInput): Promise<InteractionState> {
    return this.interactions.submitModal(input);
  }

  /** A message context-menu command run on a message (type 2, data.type 3). */
  invokeMessageCommand(input: MessageCommandInput): Promise<InteractionState> {
    return this.interactions.invokeMessageCommand(input);
  }

  /** Sets the bot's overwrite in a channel and tells the client (CHANNEL_UPDATE), as an admin edit would. */
  async setBotPermissions(channelId: string, change: { allow?: PermissionName[]; deny?: PermissionName[] }) {
    const channel = this.world.setBotOverwrite(channelId, change);
    await this.gateway.dispatch("CHANNEL_UPDATE", channel);
  }

  /** The next `times` calls of a route (e.g. `POST /channels/:channelId/messages`) fail with `fault`. */
  failNext(routeName: string, fault: InjectedFault, times = 1): void {
    this.rest.failNext(routeName, fault, times);
  }

  waitForReady() {
    return this.gateway.waitForReady();
  }

  /** Holds the gateway's READY until the returned function is called (a bot still connecting). */
  holdReady(): () => void {
    return this.gateway.holdReady();
  }

  /** The message (as stored now) by id: content, attachments with fresh URLs, reply. */
  message(id: string): APIMessage | undefined {
    return this.world.render(id);
  }

  /** Messages the bot created, in order (channel posts, interaction responses and follow-ups). */
  get messages() {
    return this.#writer.created;
  }

  get edits() {
    return this.#writer.edited;
  }

  get typing() {
    return this.#channels.typing;
  }

  get requests() {
    return this.rest.requests;
  }

  nextMessage(options?: WaitOptions): Promise<PostedMessage> {
    return this.#writer.created.next(options);
  }

  nextEdit(options?: WaitOptions): Promise<PostedMessage> {
    return this.#writer.edited.next(options);
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

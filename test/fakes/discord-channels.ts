/**
 * Channel, message, typing, DM and identity routes, each refusing with Discord's errors when the
 * bot lacks the permission the real API checks (50013 Missing Permissions, 50001 Missing Access).
 */
import type { FakeGateway } from "./discord-gateway.js";
import {
  type Endpoint,
  errors,
  type HandlerRequest,
  noContent,
  ok,
  type Route,
  route,
} from "./discord-http.js";
import type { MessageWriter } from "./discord-messages.js";
import { Permission, type PermissionName } from "./discord-permissions.js";
import { Recorder } from "./discord-recorder.js";
import type { World } from "./discord-state.js";

export interface TypingRecord {
  channelId: string;
}

export interface GatewayInfo {
  url: () => string;
}

export class ChannelRoutes {
  readonly typing = new Recorder<TypingRecord>("typing", (t) => t.channelId);

  constructor(
    private readonly world: World,
    private readonly writer: MessageWriter,
    private readonly gateway: FakeGateway,
    private readonly gatewayInfo: GatewayInfo,
  ) {}

  routes(): Route<Endpoint>[] {
    const authed = (run: Endpoint["run"]): Endpoint => ({ auth: true, run });
    return [
      route("GET", "/gateway", { auth: false, run: () => ok({ url: this.gatewayInfo.url() }) }),
      route(
        "GET",
        "/gateway/bot",
        authed(() => ok(this.#gatewayBot())),
      ),
      route(
        "GET",
        "/users/@me",
        authed(() => ok(this.world.bot)),
      ),
      route(
        "GET",
        "/applications/@me",
        authed(() => ok(this.#application())),
      ),
      route(
        "POST",
        "/users/@me/channels",
        authed((r) => this.#openDm(r)),
      ),
      route(
        "GET",
        "/channels/:channelId",
        authed((r) => this.#channel(r)),
      ),
      route(
        "POST",
        "/channels/:channelId/messages",
        authed((r) => this.#post(r)),
      ),
      route(
        "GET",
        "/channels/:channelId/messages/:messageId",
        authed((r) => this.#fetch(r)),
      ),
      route(
        "PATCH",
        "/channels/:channelId/messages/:messageId",
        authed((r) => this.#edit(r)),
      ),
      route(
        "POST",
        "/channels/:channelId/typing",
        authed((r) => this.#typing(r)),
      ),
      route(
        "GET",
        "/guilds/:guildId/members/:userId",
        authed((r) => this.#member(r)),
      ),
    ];
  }

  #gatewayBot() {
    return {
      url: this.gatewayInfo.url(),
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
    };
  }

  #application() {
    return {
      id: this.world.applicationId,
      name: this.world.bot.username,
      icon: null,
      description: "",
      summary: "",
      bot_public: true,
      bot_require_code_grant: false,
      verify_key: "0".repeat(64),
      flags: 0,
      team: null,
      bot: this.world.bot,
      install_params: { scopes: ["bot", "applications.commands"], permissions: "0" },
    };
  }

  #openDm(req: HandlerRequest) {
    const recipient = (req.json as { recipient_id?: unknown } | undefined)?.recipient_id;
    if (typeof recipient !== "string" || !this.world.userById(recipient)) {
      throw errors.invalidForm(["recipient_id"], "NUMBER_TYPE_COERCE", "Value is not snowflake.");
    }
    return ok(this.world.dmWith(recipient));
  }

  #channel(req: HandlerRequest) {
    const where = this.#require(req, ["ViewChannel"]);
    return ok(where.channel);
  }

  #post(req: HandlerRequest) {
    const body = req.json as { message_reference?: { message_id?: string } } | undefined;
    const needed: PermissionName[] = ["ViewChannel", "SendMessages"];
    if (req.files.length > 0) needed.push("AttachFiles");
    if (body?.message_reference?.message_id !== undefined) needed.push("ReadMessageHistory");
    const where = this.#require(req, needed);
    const { message } = this.writer.create({
      channelId: where.channel.id,
      json: req.json,
      files: req.files,
      via: "channel",
    });
    void this.gateway.dispatchMessage("MESSAGE_CREATE", message.id);
    return ok(message);
  }

  #fetch(req: HandlerRequest) {
    this.#require(req, ["ViewChannel", "ReadMessageHistory"]);
    const message = this.world.render(req.params.messageId ?? "");
    if (!message || message.channel_id !== req.params.channelId) throw errors.unknownMessage();
    return ok(message);
  }

  #edit(req: HandlerRequest) {
    const where = this.#require(req, ["ViewChannel"]);
    if (
      req.files.length > 0 &&
      (this.world.botPermissions(where.channel.id) & Permission.AttachFiles) === 0n
    ) {
      throw errors.missingPermissions();
    }
    const id = req.params.messageId ?? "";
    const { message } = this.writer.edit(id, {
      channelId: where.channel.id,
      json: req.json,
      files: req.files,
      via: "channel",
    });
    void this.gateway.dispatchMessage("MESSAGE_UPDATE", id);
    return ok(message);
  }

  #typing(req: HandlerRequest) {
    const where = this.#require(req, ["ViewChannel", "SendMessages"]);
    this.typing.push({ channelId: where.channel.id });
    return noContent;
  }

  #member(req: HandlerRequest) {
    const guild = this.world.guilds.find((g) => g.id === req.params.guildId);
    if (!guild) throw errors.missingAccess();
    const member = guild.members.get(req.params.userId ?? "");
    if (!member) throw errors.unknownMember();
    return ok(member);
  }

  /** Discord answers 404 for channels it does not know, 50001 without View Channel, 50013 for the rest. */
  #require(req: HandlerRequest, needed: PermissionName[]) {
    const where = this.world.locate(req.params.channelId ?? "");
    if (!where) throw errors.unknownChannel();
    const perms = this.world.botPermissions(where.channel.id);
    if ((perms & Permission.ViewChannel) === 0n) throw errors.missingAccess();
    for (const name of needed) {
      if ((perms & Permission[name]) === 0n) throw errors.missingPermissions();
    }
    return where;
  }
}

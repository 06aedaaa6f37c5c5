/**
 * Application command registration (global and per guild), validated with the rules Discord
 * enforces on PUT/POST so a malformed `/imagine` definition fails here as it would in production.
 */
import type { APIApplicationCommand, APIApplicationCommandOption } from "discord.js";
import { type Endpoint, errors, type HandlerRequest, ok, type Route, route } from "./discord-http.js";
import { Recorder } from "./discord-recorder.js";
import type { World } from "./discord-state.js";

export interface CommandRegistration {
  /** `global` or the guild id. */
  scope: string;
  method: "PUT" | "POST";
  /** What the fake stored and returned. */
  commands: APIApplicationCommand[];
}

const NAME = /^[-_\p{L}\p{N}]{1,32}$/u;
/** User and message context-menu commands: any 1-32 characters, spaces and capitals allowed. */
const CONTEXT_MENU_NAME = /^[^\n]{1,32}$/u;

export class CommandRegistry {
  readonly registrations = new Recorder<CommandRegistration>(
    "command registrations",
    (r) => `${r.method} ${r.scope}: ${r.commands.map((c) => c.name).join(", ")}`,
  );
  readonly #byScope = new Map<string, APIApplicationCommand[]>();

  constructor(private readonly world: World) {}

  /**
   * The registered command of that name and type (1 chat input, 3 message context menu),
   * guild-specific first (as Discord resolves it).
   */
  find(name: string, guildId?: string, type = 1): APIApplicationCommand | undefined {
    const guild = guildId === undefined ? [] : (this.#byScope.get(guildId) ?? []);
    return [...guild, ...(this.#byScope.get("global") ?? [])].find((c) => c.name === name && c.type === type);
  }

  routes(): Route<Endpoint>[] {
    const scopeOf = (req: HandlerRequest) => {
      if (req.params.appId !== this.world.applicationId) throw errors.missingAccess();
      const guildId = req.params.guildId;
      if (guildId !== undefined && !this.world.guilds.some((g) => g.id === guildId))
        throw errors.missingAccess();
      return guildId ?? "global";
    };
    const list: Endpoint = { auth: true, run: (req) => ok(this.#byScope.get(scopeOf(req)) ?? []) };
    const put: Endpoint = {
      auth: true,
      run: (req) => {
        const scope = scopeOf(req);
        if (!Array.isArray(req.json)) throw errors.invalidForm([], "BASE_TYPE_ARRAY", "Must be an array.");
        const commands = req.json.map((c, i) => this.#command(c, scope, [i]));
        this.#byScope.set(scope, commands);
        this.registrations.push({ scope, method: "PUT", commands });
        return ok(commands);
      },
    };
    const post: Endpoint = {
      auth: true,
      run: (req) => {
        const scope = scopeOf(req);
        const command = this.#command(req.json, scope, []);
        const others = (this.#byScope.get(scope) ?? []).filter((c) => c.name !== command.name);
        this.#byScope.set(scope, [...others, command]);
        this.registrations.push({ scope, method: "POST", commands: [command] });
        return ok(command, 201);
      },
    };
    return [
      route("GET", "/applications/:appId/commands", list),
      route("PUT", "/applications/:appId/commands", put),
      route("POST", "/applications/:appId/commands", post),
      route("GET", "/applications/:appId/guilds/:guildId/commands", list),
      route("PUT", "/applications/:appId/guilds/:guildId/commands", put),
      route("POST", "/applications/:appId/guilds/:guildId/commands", post),
    ];
  }

  #command(input: unknown, scope: string, path: (string | number)[]): APIApplicationCommand {
    const c = (input ?? {}) as Record<string, unknown>;
    const type = typeof c.type === "number" ? c.type : 1;
    if (type === 1) {
      checkName(c.name, [...path, "name"], true);
      checkDescription(c.description, [...path, "description"]);
    } else if (typeof c.name !== "string" || !CONTEXT_MENU_NAME.test(c.name) || c.name.trim() !== c.name) {
      throw errors.invalidForm(
        [...path, "name"],
        "APPLICATION_COMMAND_INVALID_NAME",
        "Command name is invalid",
      );
    } else if (c.description !== undefined && c.description !== "") {
      throw errors.invalidForm(
        [...path, "description"],
        "APPLICATION_COMMAND_INVALID_DESCRIPTION",
        "Context menu commands cannot have a description",
      );
    }
    const options = Array.isArray(c.options) ? (c.options as APIApplicationCommandOption[]) : [];
    checkOptions(options, [...path, "options"]);
    const command = {
      ...(c as object),
      id: this.world.ids.next(),
      application_id: this.world.applicationId,
      version: this.world.ids.next(),
      type,
      name: c.name as string,
      description: typeof c.description === "string" ? c.description : "",
      options,
      default_member_permissions: (c.default_member_permissions as string | null | undefined) ?? null,
      nsfw: c.nsfw === true,
      ...(scope === "global" ? {} : { guild_id: scope }),
    } as APIApplicationCommand;
    return command;
  }
}

function checkName(name: unknown, path: (string | number)[], chatInput: boolean): void {
  if (typeof name !== "string" || !NAME.test(name) || (chatInput && name !== name.toLowerCase())) {
    throw errors.invalidForm(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
  }
}

function checkDescription(description: unknown, path: (string | number)[]): void {
  if (typeof description !== "string" || description.length < 1 || description.length > 100) {
    throw errors.invalidForm(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
  }
}

function checkOptions(options: APIApplicationCommandOption[], path: (string | number)[]): void {
  if (options.length > 25)
    throw errors.invalidForm(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
  let optionalSeen = false;
  const names = new Set<string>();
  options.forEach((option, i) => {
    checkName(option.name, [...path, i, "name"], true);
    checkDescription(option.description, [...path, i, "description"]);
    if (names.has(option.name)) {
      throw errors.invalidForm(
        [...path, i, "name"],
        "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
        "Duplicate",
      );
    }
    names.add(option.name);
    const required = "required" in option && option.required === true;
    if (required && optionalSeen) {
      throw errors.invalidForm(
        path,
        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
        "Required options must be placed before non-required options",
      );
    }
    if (!required) optionalSeen = true;
    const choices = "choices" in option && Array.isArray(option.choices) ? option.choices : [];
    if (choices.length > 25) {
      throw errors.invalidForm(
        [...path, i, "choices"],
        "BASE_TYPE_MAX_LENGTH",
        "Must be 25 or fewer in length.",
      );
    }
  });
}

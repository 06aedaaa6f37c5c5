import type { UserSettings } from "./grammar.js";

/**
 * Every sentence of cost control a chat user reads: quota refusals, `usage`, `settings`, and
 * the channel and word policy. Beside messages.ts so the wording stays in one layer.
 */

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? "" : "s"}`;

export interface QuotaRefusal {
  scope: "user" | "team";
  limit: number;
  left: number;
}

/** "You have 1 image left today (limit 3); it resets at 00:00 UTC. Try --n 1." */
export function quotaRefusal(refusal: QuotaRefusal, reset: string): string {
  const who = refusal.scope === "user" ? "You have" : "Your team has";
  const left = refusal.left === 0 ? "no images" : plural(refusal.left, "image");
  const tail = refusal.left === 0 ? "" : ` Try --n ${refusal.left}.`;
  return `${who} ${left} left today (limit ${refusal.limit}); it resets at ${reset}.${tail}`;
}

export type Money = Map<string, number>;

export interface UsageFigures {
  today: { images: number; cost: Money };
  month: { images: number; cost: Money };
  /** `YYYY-MM`. */
  monthName: string;
  userLimit: number;
  reset: string;
  /** Only for admins; "none" outside a team (a DM). */
  team?:
    | "none"
    | {
        limit: number;
        today: { images: number; cost: Money };
        month: { images: number; cost: Money };
        topToday: Array<{ userId: string; images: number }>;
        topMonth: Array<{ userId: string; images: number }>;
      };
}

const moneyFormat = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 3 });

/** "about 0.12 USD" (several currencies joined with "+"), "nothing" when zero. */
export function formatCost(cost: Money): string {
  const parts = [...cost].filter(([, amount]) => amount > 0);
  if (parts.length === 0) return "no cost";
  return `about ${parts.map(([currency, amount]) => `${moneyFormat.format(amount)} ${currency}`).join(" + ")}`;
}

function monthLabel(month: string): string {
  const [year, number] = month.split("-").map(Number);
  const date = new Date(Date.UTC(year ?? 1970, (number ?? 1) - 1, 1));
  return new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" }).format(date);
}

function topLine(label: string, top: Array<{ userId: string; images: number }>): string {
  if (top.length === 0) return `${label}: nobody yet.`;
  return `${label}: ${top.map((entry, i) => `${i + 1}. <@${entry.userId}> ${entry.images}`).join(", ")}.`;
}

export function usageReport(figures: UsageFigures): string {
  const limit =
    figures.userLimit > 0
      ? `${figures.today.images} of ${plural(figures.userLimit, "image")} (resets at ${figures.reset})`
      : `${plural(figures.today.images, "image")} (no daily limit)`;
  const lines = [
    `Today: ${limit}, ${formatCost(figures.today.cost)}.`,
    `${monthLabel(figures.monthName)}: ${plural(figures.month.images, "image")}, ${formatCost(figures.month.cost)}.`,
  ];
  const team = figures.team;
  if (team === "none") lines.push("Team totals are shown where the bot works for a team (not in a DM).");
  else if (team !== undefined) {
    const teamLimit = team.limit > 0 ? ` of ${team.limit}` : "";
    lines.push(
      `Team today: ${team.today.images}${teamLimit} images, ${formatCost(team.today.cost)}; this month: ${plural(team.month.images, "image")}, ${formatCost(team.month.cost)}.`,
      topLine("Top today", team.topToday),
      topLine("Top this month", team.topMonth),
    );
  }
  lines.push("Estimated from the published price per image; only delivered images count.");
  return lines.join("\n");
}

/** `settings` alone: what is saved, and what it falls back to. */
export function settingsShown(settings: UserSettings | undefined): string {
  const saved = settings === undefined ? [] : describeSettings(settings);
  if (saved.length === 0) {
    return [
      "You have no saved settings: each request uses the bot's defaults.",
      "Save some with `settings --model 4.0 --size 2K --n 2 --no-watermark`; flags you type in a request still win.",
    ].join("\n");
  }
  return [
    `Your settings: ${saved.join(" ")}.`,
    "Flags you type in a request win over them; `settings reset` clears them.",
  ].join("\n");
}

export function settingsSaved(settings: UserSettings): string {
  return `Saved. Your requests now use ${describeSettings(settings).join(" ")} unless you type other flags; \`settings reset\` clears them.`;
}

export const SETTINGS_CLEARED = "Your settings are cleared: requests use the bot's defaults again.";

function describeSettings(settings: UserSettings): string[] {
  const parts: string[] = [];
  if (settings.model !== undefined) parts.push(`--model ${settings.model}`);
  if (settings.size !== undefined) parts.push(`--size ${settings.size}`);
  if (settings.ar !== undefined) parts.push(`--ar ${settings.ar.width}:${settings.ar.height}`);
  if (settings.n !== undefined) parts.push(`--n ${settings.n}`);
  if (settings.watermark !== undefined) parts.push(settings.watermark ? "--watermark" : "--no-watermark");
  return parts;
}

/** Outside ALLOWED_CHANNELS. */
export function channelNotAllowed(allowed: readonly string[]): string {
  return `Images can't be generated here. Use the bot in ${allowed.map((id) => `<#${id}>`).join(", ")}.`;
}

/** A prompt with a BLOCKED_TERMS entry: the term is named, nothing is generated. */
export function blockedTermSentence(term: string): string {
  return `Your prompt contains "${term}", which isn't allowed here, so nothing was generated. Please rephrase it.`;
}

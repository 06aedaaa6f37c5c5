import { estimate, type Price, type PricedProvider } from "../seedream/prices.js";
import { nextDayStart, type Period, periodAt } from "./calendar.js";
import { type QuotaRefusal, quotaRefusal, type UsageFigures, usageReport } from "./cost-messages.js";
import type { CounterLimit, CounterRef, CounterStore } from "./counters.js";
import type { Clock } from "./runtime.js";

/**
 * Daily image quotas per user and per team, and the usage figures behind `usage`. Counting
 * follows the vendor's billing: a request reserves its `n` at admission (so two concurrent
 * requests cannot both pass the edge of a quota) and gives back, when it ends, whatever was not
 * delivered — blocked and failed images included. Costs are added per delivered image, in
 * millionths of the currency, so the counters stay integers (as Redis HINCRBY wants).
 */

export interface CostSettings {
  /** Images per user per day; 0 = no limit. */
  userDailyImages: number;
  /** Images per team (Slack workspace, Discord server) per day; 0 = no limit. */
  teamDailyImages: number;
  /** IANA zone whose midnight starts a day. */
  timeZone: string;
  /** Replaces the price table (SEEDREAM_PRICE_PER_IMAGE). */
  pricePerImage: Price | undefined;
  /** `platform:userId` entries who see team totals. */
  adminUserIds: readonly string[];
}

export interface Requester {
  platform: string;
  userId: string;
  /** Workspace / server; none in a DM, where only the user's own quota applies. */
  teamId?: string;
}

export interface Reservation {
  /** Ends the reservation: `delivered` images of `model` count, the rest is given back. Once. */
  settle(delivered: number, model: string | undefined): Promise<void>;
  /**
   * Hands the reservation over as plain data (kept in the run's record) to whichever process
   * finishes the run, which settles it with `Quotas.settleTicket`; `settle` then does nothing.
   */
  handOver(): ReservationTicket;
}

/** A reservation in transit: `images` reserved at `at` (whose day and month it counts in). */
export interface ReservationTicket {
  images: number;
  at: number;
}

export type QuotaDecision = { granted: true; reservation: Reservation } | { granted: false; message: string };

const DAY_TTL_MS = 40 * 24 * 60 * 60 * 1000;
const MONTH_TTL_MS = 400 * 24 * 60 * 60 * 1000;
const MICROS = 1_000_000;
const TOP = 5;

const userField = (userId: string) => `u:${userId}`;
const costField = (currency: string, userId?: string) =>
  userId === undefined ? `c:${currency}` : `c:${currency}:u:${userId}`;

interface Groups {
  dayUser: string;
  monthUser: string;
  dayTeam?: string;
  monthTeam?: string;
}

function groupsFor(who: Requester, period: Period): Groups {
  const groups: Groups = {
    dayUser: `quota:day:${period.day}:${who.platform}`,
    monthUser: `quota:month:${period.month}:${who.platform}`,
  };
  if (who.teamId !== undefined) {
    groups.dayTeam = `quota:day:${period.day}:${who.platform}:${who.teamId}`;
    groups.monthTeam = `quota:month:${period.month}:${who.platform}:${who.teamId}`;
  }
  return groups;
}

/** The day's and the month's counters a requester's images count in (theirs, their team's). */
function countersOf(who: Requester, groups: Groups): { day: CounterRef[]; month: CounterRef[] } {
  const user = userField(who.userId);
  const day: CounterRef[] = [{ group: groups.dayUser, field: user }];
  const month: CounterRef[] = [{ group: groups.monthUser, field: user }];
  if (groups.dayTeam !== undefined && groups.monthTeam !== undefined) {
    day.push({ group: groups.dayTeam, field: "total" }, { group: groups.dayTeam, field: user });
    month.push({ group: groups.monthTeam, field: "total" }, { group: groups.monthTeam, field: user });
  }
  return { day, month };
}

export class Quotas {
  constructor(
    private readonly counters: CounterStore,
    private readonly settings: CostSettings,
    /** Which price table applies (the Seedream provider id). */
    private readonly provider: string,
    private readonly clock: Clock,
  ) {}

  isAdmin(who: Requester): boolean {
    return this.settings.adminUserIds.includes(`${who.platform}:${who.userId}`);
  }

  /** Reserves `n` images for `who`, or explains (in the user's words) why not. */
  async reserve(who: Requester, n: number): Promise<QuotaDecision> {
    const now = this.clock.now();
    const groups = groupsFor(who, periodAt(now, this.settings.timeZone));
    const user = userField(who.userId);
    const day: CounterLimit[] = [
      { group: groups.dayUser, field: user, limit: this.settings.userDailyImages },
    ];
    if (groups.dayTeam !== undefined) {
      day.push(
        { group: groups.dayTeam, field: "total", limit: this.settings.teamDailyImages },
        { group: groups.dayTeam, field: user, limit: 0 },
      );
    }
    const result = await this.counters.reserve(day, n, DAY_TTL_MS);
    if (!result.granted) return { granted: false, message: this.refusal(n, result.values) };
    const month: CounterRef[] = [{ group: groups.monthUser, field: user }];
    if (groups.monthTeam !== undefined)
      month.push({ group: groups.monthTeam, field: "total" }, { group: groups.monthTeam, field: user });
    await this.counters.add(month, n, MONTH_TTL_MS);

    let settled = false;
    return {
      granted: true,
      reservation: {
        settle: async (delivered, model) => {
          if (settled) return;
          settled = true;
          await this.settleTicket(who, { images: n, at: now }, delivered, model);
        },
        handOver: () => {
          settled = true;
          return { images: n, at: now };
        },
      },
    };
  }

  /** Settles a reservation handed over (see `Reservation.handOver`), in the day and month it was made. */
  async settleTicket(
    who: Requester,
    ticket: ReservationTicket,
    delivered: number,
    model: string | undefined,
  ): Promise<void> {
    const groups = groupsFor(who, periodAt(ticket.at, this.settings.timeZone));
    const { day, month } = countersOf(who, groups);
    const unused = Math.max(0, ticket.images - delivered);
    if (unused > 0) {
      await this.counters.add(day, -unused, DAY_TTL_MS);
      await this.counters.add(month, -unused, MONTH_TTL_MS);
    }
    if (delivered > 0) await this.addCost(who, groups, delivered, model);
  }

  /**
   * Counts images delivered without a reservation of this process: a run taken up again after a
   * restart (its reservation was given back, or died, with the old process). No limit applies:
   * the request was admitted when it was made.
   */
  async count(who: Requester, delivered: number, model: string | undefined): Promise<void> {
    if (delivered <= 0) return;
    const groups = groupsFor(who, periodAt(this.clock.now(), this.settings.timeZone));
    const { day, month } = countersOf(who, groups);
    await this.counters.add(day, delivered, DAY_TTL_MS);
    await this.counters.add(month, delivered, MONTH_TTL_MS);
    await this.addCost(who, groups, delivered, model);
  }

  /** The `usage` answer: the user's figures, and the team's when `admin`. */
  async usage(who: Requester, admin: boolean): Promise<string> {
    const now = this.clock.now();
    const period = periodAt(now, this.settings.timeZone);
    const groups = groupsFor(who, period);
    const [dayUser, monthUser] = await Promise.all([
      this.counters.readGroup(groups.dayUser),
      this.counters.readGroup(groups.monthUser),
    ]);
    const figures: UsageFigures = {
      today: { images: dayUser.get(userField(who.userId)) ?? 0, cost: costs(dayUser, who.userId) },
      month: { images: monthUser.get(userField(who.userId)) ?? 0, cost: costs(monthUser, who.userId) },
      monthName: period.month,
      userLimit: this.settings.userDailyImages,
      reset: this.resetText(),
    };
    if (admin) {
      if (groups.dayTeam === undefined || groups.monthTeam === undefined) {
        figures.team = "none";
      } else {
        const [dayTeam, monthTeam] = await Promise.all([
          this.counters.readGroup(groups.dayTeam),
          this.counters.readGroup(groups.monthTeam),
        ]);
        figures.team = {
          limit: this.settings.teamDailyImages,
          today: { images: dayTeam.get("total") ?? 0, cost: costs(dayTeam) },
          month: { images: monthTeam.get("total") ?? 0, cost: costs(monthTeam) },
          topToday: top(dayTeam),
          topMonth: top(monthTeam),
        };
      }
    }
    return usageReport(figures);
  }

  private async addCost(who: Requester, groups: Groups, delivered: number, model: string | undefined) {
    const cost = estimate(pricedProvider(this.provider), model, delivered, this.settings.pricePerImage);
    const micros = Math.round(cost.amount * MICROS);
    if (micros === 0) return;
    const user = costField(cost.currency, who.userId);
    await this.counters.add(
      [
        { group: groups.dayUser, field: user },
        ...(groups.dayTeam === undefined
          ? []
          : [
              { group: groups.dayTeam, field: costField(cost.currency) },
              { group: groups.dayTeam, field: user },
            ]),
      ],
      micros,
      DAY_TTL_MS,
    );
    await this.counters.add(
      [
        { group: groups.monthUser, field: user },
        ...(groups.monthTeam === undefined
          ? []
          : [
              { group: groups.monthTeam, field: costField(cost.currency) },
              { group: groups.monthTeam, field: user },
            ]),
      ],
      micros,
      MONTH_TTL_MS,
    );
  }

  private refusal(n: number, values: number[]): string {
    const [userUsed = 0, teamUsed = 0] = values;
    const { userDailyImages, teamDailyImages } = this.settings;
    const userBlocks = userDailyImages > 0 && userUsed + n > userDailyImages;
    const refusal: QuotaRefusal = userBlocks
      ? { scope: "user", limit: userDailyImages, left: Math.max(0, userDailyImages - userUsed) }
      : { scope: "team", limit: teamDailyImages, left: Math.max(0, teamDailyImages - teamUsed) };
    return quotaRefusal(refusal, this.resetText());
  }

  /** "00:00 UTC", "00:00 Europe/Berlin": when the next quota day starts. */
  private resetText(): string {
    const next = nextDayStart(this.clock.now(), this.settings.timeZone);
    const local = new Intl.DateTimeFormat("en-GB", {
      timeZone: this.settings.timeZone,
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(next);
    return `${local} ${this.settings.timeZone}`;
  }
}

function pricedProvider(provider: string): PricedProvider {
  return provider === "byteplus" || provider === "dmxapi" || provider === "modelverse" || provider === "demo"
    ? provider
    : "ark";
}

/** Costs in a group, by currency: of one user, or the group's total. */
function costs(group: Map<string, number>, userId?: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const [field, micros] of group) {
    const match = /^c:([A-Z]{3})(?::u:(.*))?$/.exec(field);
    if (match === null || match[2] !== userId || micros === 0) continue;
    result.set(match[1] as string, micros / MICROS);
  }
  return result;
}

function top(group: Map<string, number>): Array<{ userId: string; images: number }> {
  return [...group]
    .filter(([field, images]) => field.startsWith("u:") && images > 0)
    .map(([field, images]) => ({ userId: field.slice(2), images }))
    .sort((a, b) => b.images - a.images || a.userId.localeCompare(b.userId))
    .slice(0, TOP);
}

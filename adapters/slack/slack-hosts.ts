import { type HostPolicy, hostPolicy } from "../shared/host-policy.js";

/**
 * Where the bot token may go: Slack's own domains over HTTPS, and the host of SLACK_API_URL
 * (an Enterprise proxy, or a test server) with the scheme it was configured with. Every
 * request carrying the token is checked against this first, redirects included.
 */

const SLACK_DOMAINS = ["slack.com", "slack-edge.com", "slack-files.com", "slack-gov.com"];

export const DEFAULT_SLACK_API_URL = "https://slack.com/api/";

export const tokenHostPolicy = (apiUrl: string | undefined): HostPolicy =>
  hostPolicy(apiUrl, { domains: SLACK_DOMAINS });

/** The Web API base URL as the WebClient needs it (it appends method names to it). */
export function normaliseApiUrl(apiUrl: string | undefined): string {
  if (!apiUrl) return DEFAULT_SLACK_API_URL;
  return apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`;
}

/**
 * Which hosts a platform's downloads (and, on Slack, its bot token) may go to: the platform's own
 * hosts over HTTPS, and the host of its configured API URL (a proxy, or a test server) with the
 * scheme it was configured with. Every hop of a download is checked against it, redirects included.
 */

export type HostPolicy = (url: URL) => boolean;

export interface PlatformHosts {
  /** Exact host names (`cdn.discordapp.com`). */
  hosts?: readonly string[];
  /** Domains whose subdomains count too (`slack.com` allows `files.slack.com`). */
  domains?: readonly string[];
}

export function hostPolicy(apiUrl: string | undefined, allowed: PlatformHosts): HostPolicy {
  const api = apiUrl ? new URL(apiUrl) : undefined;
  const hosts = allowed.hosts ?? [];
  const domains = allowed.domains ?? [];
  return (url) => {
    if (api && url.host === api.host && url.protocol === api.protocol) return true;
    if (url.protocol !== "https:") return false;
    const host = url.hostname.toLowerCase();
    return hosts.includes(host) || domains.some((domain) => host === domain || host.endsWith(`.${domain}`));
  };
}

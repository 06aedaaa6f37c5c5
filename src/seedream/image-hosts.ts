/**
 * Where `response_format: url` images may be downloaded from: the provider's own image hosts
 * (its profile's list) plus the operator's (SEEDREAM_IMAGE_HOSTS, for gateways and tests).
 * An entry is a host name (`cdn.example.com`, exact) or a domain with a leading dot
 * (`.volces.com`, any host under it). Profile hosts need https; an operator's entry is trusted
 * as written (a test server on http://127.0.0.1).
 */
export interface ImageHostPolicy {
  provider: readonly string[];
  operator: readonly string[];
}

const matches = (host: string, entry: string): boolean => {
  const wanted = entry.trim().toLowerCase();
  if (wanted === "") return false;
  return wanted.startsWith(".") ? host.endsWith(wanted) : host === wanted;
};

/** Why `url` may not be downloaded, or undefined when it may. */
export function refuseImageUrl(url: string, policy: ImageHostPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "the image URL is not a URL";
  }
  const host = parsed.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (policy.operator.some((entry) => matches(host, entry))) {
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? undefined : "not http(s)";
  }
  if (!policy.provider.some((entry) => matches(host, entry))) {
    return `${host} is not one of the provider's image hosts (SEEDREAM_IMAGE_HOSTS adds more)`;
  }
  return parsed.protocol === "https:" ? undefined : "the provider's image URL is not https";
}

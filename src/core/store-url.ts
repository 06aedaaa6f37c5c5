/** STORE_URL in words fit for a log line or an error message: passwords hidden, causes named. */

/** The URL with its password (if any) replaced, fit for a log line or an error message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === "") return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    // Not a URL at all: hide anything between "//" and "@" that could be a credential.
    return url.replace(/\/\/[^/@]*@/, "//***@");
  }
}

/** `text` with the URL's password, wherever it appears (a driver may quote it), replaced. */
export function hidePassword(text: string, url: string): string {
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  return password.length < 3 ? text : text.replaceAll(password, "***");
}

/** An error in one line: its message, with its code in front when the message lacks it. */
export function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The Slack adapter: what `src/main.ts` and the CLI use. */
export {
  type SlackHandle,
  type SlackSettings,
  SlackStartError,
  type StartSlackOptions,
  startSlack,
} from "./slack-app.js";
export {
  MANIFEST_URL_PLACEHOLDER,
  type ManifestOptions,
  SLACK_MANIFEST_USAGE,
  slackManifest,
  slackManifestCommand,
  slackManifestSubcommand,
} from "./slack-manifest.js";
export { type SlackRestorerHandle, type SlackWebSetup, startSlackRestorer } from "./slack-restorer.js";

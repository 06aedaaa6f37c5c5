import { z } from "zod";

/**
 * What Slack sends us, as far as the adapter reads it. Parsed once where it enters (Bolt
 * listeners, Web API answers); the rest of the adapter works with the parsed values only.
 * Unknown fields are dropped; a payload missing a field we need is logged and ignored.
 */

/** A file object as events, files.info and uploads show it; a Slack Connect stub has only `id`. */
export const slackFileSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  title: z.string().optional(),
  mimetype: z.string().optional(),
  filetype: z.string().optional(),
  size: z.number().optional(),
  original_w: z.number().optional(),
  original_h: z.number().optional(),
  url_private: z.string().optional(),
  url_private_download: z.string().optional(),
  /** `check_file_info` marks a Slack Connect stub: the full object comes from files.info. */
  file_access: z.string().optional(),
  is_external: z.boolean().optional(),
  external_type: z.string().optional(),
  mode: z.string().optional(),
});
export type SlackFile = z.output<typeof slackFileSchema>;

/** An `app_mention` or `message` event (only the fields a mention needs). */
export const messageEventSchema = z.object({
  type: z.enum(["app_mention", "message"]),
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z.string(),
  thread_ts: z.string().optional(),
  channel: z.string(),
  channel_type: z.string().optional(),
  parent_user_id: z.string().optional(),
  files: z.array(slackFileSchema).optional(),
});
export type MessageEvent = z.output<typeof messageEventSchema>;

/** The envelope around an event (for the event id used to drop Slack's retries). */
export const eventEnvelopeSchema = z.object({ event_id: z.string().optional() });

/** The fields of a slash command payload the adapter reads. */
export const slashCommandSchema = z.object({
  command: z.string(),
  text: z.string().default(""),
  user_id: z.string(),
  user_name: z.string().optional(),
  channel_id: z.string(),
  team_id: z.string().optional(),
  response_url: z.string().optional(),
});
export type SlashCommand = z.output<typeof slashCommandSchema>;

export const authTestSchema = z.object({
  user_id: z.string(),
  bot_id: z.string().optional(),
  user: z.string().optional(),
  team_id: z.string().optional(),
});

export const postMessageSchema = z.object({ ts: z.string(), channel: z.string().optional() });

export const fileInfoSchema = z.object({ file: slackFileSchema });

export const uploadUrlSchema = z.object({ upload_url: z.string(), file_id: z.string() });

export const completeUploadSchema = z.object({
  files: z.array(z.object({ id: z.string(), title: z.string().optional() })).min(1),
});

export const viewOpenSchema = z.object({ view: z.object({ id: z.string() }) });

export const userInfoSchema = z.object({
  user: z.object({ id: z.string(), is_admin: z.boolean().optional(), is_owner: z.boolean().optional() }),
});

/** A button press (`block_actions`), as far as the follow-ups read it. */
export const blockActionSchema = z.object({
  user: z.object({ id: z.string(), username: z.string().optional(), name: z.string().optional() }),
  trigger_id: z.string(),
  container: z.object({ channel_id: z.string(), message_ts: z.string(), thread_ts: z.string().optional() }),
  message: z.object({ ts: z.string(), thread_ts: z.string().optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
});
export type BlockAction = z.output<typeof blockActionSchema>;

/** A modal submission (`view_submission`), as far as the Edit… form reads it. */
export const viewSubmissionSchema = z.object({
  user: z.object({ id: z.string(), username: z.string().optional(), name: z.string().optional() }),
  view: z.object({ callback_id: z.string(), private_metadata: z.string(), state: z.unknown() }),
});
export type ViewSubmission = z.output<typeof viewSubmissionSchema>;

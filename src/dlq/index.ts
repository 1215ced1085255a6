export { type BytesJson, type DlqJson, type Json, jsonSafe, renderDlqJson } from './json.js';
export {
  type DlqMessage,
  type DlqRecord,
  dlqHeader,
  dlqMessage,
  dlqTopicFor,
  type FailureStage,
  MalformedDlqRecordError,
  maxReasonBytes,
  type ProcessingFailure,
  readDlqMessage,
  type SourceRecord,
  truncateUtf8,
} from './record.js';

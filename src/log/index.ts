/** The log sinks: msmtp's summary line, the JSON line, the log file, syslog and the --debug transcript. */
export { EXIT_CODE_NAMES, exitCodeName, rawReplyLines, type FailoverEntry, type LogRecord, type LogReply, type QueueEvent, type QueueLogInfo, type RecipientResult } from './log-record.js';
export { DEFAULT_TIME_FORMAT, formatLogInfo, formatLogLine, logTimeStamp, quotable, type LogLineOptions } from './msmtp-line.js';
export { formatJsonRecord, JSON_LOG_VERSION, type JsonLineOptions } from './json-line.js';
export { appendLogLine, logFailureMessages, type AppendLogOptions, type LogFileFailure } from './logfile.js';
export {
  defaultSyslogTransport,
  loggerTransport,
  sendToSyslog,
  severityForExitStatus,
  syslogFailureMessage,
  syslogPriority,
  unixStreamTransport,
  type SyslogFacility,
  type SyslogFailure,
  type SyslogSeverity,
  type SyslogTransport,
} from './syslog.js';
export { strftime } from './strftime.js';
export { transcriptWriter, redactCommand } from './transcript.js';

/**
 * access_log of a tcp_proxy or an HTTP connection manager → AccessLogModel: Envoy's stdout logger
 * (envoy.access_loggers.stdout) with a text format, whose command operators the agent knows
 * (ACCESS_LOG_OPERATORS); any other logger, filter or operator is refused naming it.
 */
import { STDOUT_ACCESS_LOG_TYPE_URL, messageNameOf } from '../../../envoy/index.js';
import type { AccessLogModel, FormatPart } from '../model.js';
import { isObj, list, obj, optObj, refuse, show, str, unpack } from './fields.js';
import type { Problems } from './problems.js';

/** Command operators the agent fills in (others are refused). */
export const ACCESS_LOG_OPERATORS: ReadonlySet<string> = new Set([
  'START_TIME',
  'DOWNSTREAM_REMOTE_ADDRESS',
  'DOWNSTREAM_LOCAL_ADDRESS',
  'DOWNSTREAM_PEER_URI_SAN',
  'UPSTREAM_CLUSTER',
  'UPSTREAM_HOST',
  'RESPONSE_FLAGS',
  'RESPONSE_CODE',
  'BYTES_RECEIVED',
  'BYTES_SENT',
  'DURATION',
  'PROTOCOL',
  'REQ',
]);

const OPERATOR = /%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;

/** A text format → its parts; unknown operators reported under `path`. */
export function parseFormat(p: Problems, format: string, path: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let last = 0;
  for (const m of format.matchAll(OPERATOR)) {
    if (m.index > last) parts.push({ text: format.slice(last, m.index) });
    const operator = m[1]!;
    if (!ACCESS_LOG_OPERATORS.has(operator)) {
      p.add(path, `access log operator %${operator}% is not supported by the probe agent`);
    }
    parts.push({
      operator,
      ...(m[2] !== undefined ? { arg: m[2] } : {}),
      ...(m[3] !== undefined ? { max: Number(m[3]) } : {}),
    });
    last = m.index + m[0].length;
  }
  if (last < format.length) parts.push({ text: format.slice(last) });
  return parts;
}

export function parseAccessLogs(p: Problems, v: unknown, path: string): AccessLogModel[] {
  const out: AccessLogModel[] = [];
  list(p, v, path)?.forEach((entry, i) => {
    const ep = `${path}[${i}]`;
    const e = obj(p, entry, ep);
    if (!e) return;
    refuse(p, e, ['filter'], ep);
    const tc = isObj(e.typed_config) ? e.typed_config : undefined;
    const typeUrl = tc ? str(p, tc.type_url, `${ep}.typed_config.type_url`, '') : '';
    if (typeUrl !== STDOUT_ACCESS_LOG_TYPE_URL) {
      p.add(
        ep,
        `access logger ${show(e.name)} (${show(messageNameOf(typeUrl) || 'none')}) is not supported: only stdout`,
      );
      return;
    }
    const cfg = unpack(p, tc!, `${ep}.typed_config`);
    if (!cfg) return;
    const cp = `${ep}.typed_config<StdoutAccessLog>`;
    const lf = optObj(p, cfg.log_format, `${cp}.log_format`);
    if (!lf) {
      // Envoy's default format: the agent logs its own fixed line.
      out.push({
        format: parseFormat(p, '[%START_TIME%] %DOWNSTREAM_REMOTE_ADDRESS% -> %UPSTREAM_CLUSTER%\n', cp),
      });
      return;
    }
    refuse(
      p,
      lf,
      ['json_format', 'formatters', 'content_type', 'omit_empty_values', 'json_format_options'],
      `${cp}.log_format`,
    );
    const src = optObj(p, lf.text_format_source, `${cp}.log_format.text_format_source`);
    let text: string | undefined;
    if (src) {
      refuse(
        p,
        src,
        ['filename', 'environment_variable', 'inline_bytes'],
        `${cp}.log_format.text_format_source`,
      );
      text = str(p, src.inline_string, `${cp}.log_format.text_format_source.inline_string`);
    }
    if (text === undefined) {
      p.add(`${cp}.log_format`, 'needs text_format_source.inline_string');
      return;
    }
    out.push({ format: parseFormat(p, text, `${cp}.log_format.text_format_source.inline_string`) });
  });
  return out;
}

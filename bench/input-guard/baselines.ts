/**
 * The two approaches @plat/input-guard is measured against:
 * - DOMPurify used as an XSS detector: a value is flagged when sanitising changes it, compared
 *   with the same markup re-serialised without sanitising (so `&` → `&amp;` is not a "change");
 * - a typical regex blacklist, the kind found in tutorials and hand-rolled middleware (patterns
 *   after the classic SecurityFocus "Detection of SQL Injection and Cross-site Scripting Attacks"
 *   article, plus keyword lists).
 */
import createDOMPurify from 'dompurify';
import { JSDOM } from 'jsdom';

export type Kind = 'sqli' | 'xss' | 'command' | 'path';

const BLACKLIST: Readonly<Record<Kind, readonly RegExp[]>> = {
  sqli: [
    /(%27)|(')|(--)|(%23)|(#)/i,
    /((%3D)|(=))[^\n]*((%27)|(')|(--)|(%3B)|(;))/i,
    /\w*((%27)|('))((%6F)|o|(%4F))((%72)|r|(%52))/i,
    /((%27)|('))union/i,
    /\b(union\s+select|select\s.+\sfrom|insert\s+into|delete\s+from|drop\s+table|update\s.+\sset)\b/i,
  ],
  xss: [
    /((%3C)|<)((%2F)|\/)*[a-z0-9%]+((%3E)|>)/i,
    /((%3C)|<)((%69)|i|(%49))((%6D)|m|(%4D))((%67)|g|(%47))[^\n]+((%3E)|>)/i,
    /javascript\s*:/i,
    /\bon[a-z]+\s*=/i,
    /<\s*script/i,
  ],
  command: [/[;&|`]/, /\$\(/, /\b(cat|ls|id|whoami|wget|curl|nc|ping|bash|sh|rm|echo|dir|type|net)\b/i],
  path: [/\.\.[/\\]/, /%2e%2e/i, /%252e/i, /\/etc\/passwd/i, /[a-z]:\\/i, /%00/],
};

/** The blacklist flags a value when any of its patterns for that kind matches. */
export function regexBlacklist(kind: Kind): (value: string) => boolean {
  const patterns = BLACKLIST[kind];
  return (value) => patterns.some((pattern) => pattern.test(value));
}

/** DOMPurify on jsdom, flagging values that sanitising changes. */
export function domPurifyDetector(): (value: string) => boolean {
  const { window } = new JSDOM('<!DOCTYPE html><body></body>');
  const purify = createDOMPurify(window as unknown as Parameters<typeof createDOMPurify>[0]);
  const template = window.document.createElement('template');
  return (value) => {
    template.innerHTML = value;
    const plain = template.innerHTML;
    return purify.sanitize(value) !== plain;
  };
}

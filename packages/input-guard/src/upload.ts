/**
 * Upload validation: size first, then what the bytes are (magic numbers via `file-type`, and the
 * WHATWG MIME-sniffing patterns for text formats that browsers would render as HTML), which must
 * agree with the declared MIME type and the extension; only allow-listed types pass, and
 * active content (HTML, SVG, XML, scripts) is refused unless explicitly allowed.
 */
import { fileTypeFromBuffer } from 'file-type/core';
import { nfkc } from './detect/decode';
import { InputGuardError } from './errors';
import type { UploadedFile, UploadOptions, ValidatedUpload } from './types';

const DEFAULT_ALLOWED = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];

/** MIME types a browser may execute script from when served inline. */
const ACTIVE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'application/xml',
  'text/xml',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/ecmascript',
  'application/x-shockwave-flash',
  'application/vnd.adobe.flash.movie',
  'application/x-httpd-php',
  'application/pdf+active',
]);

/** Extensions that servers or browsers execute; not allowed anywhere in a name (`x.php.jpg`). */
const EXECUTABLE_EXTENSIONS = new Set([
  'php',
  'php3',
  'php4',
  'php5',
  'php7',
  'phtml',
  'phar',
  'pht',
  'phps',
  'asp',
  'aspx',
  'ascx',
  'ashx',
  'asmx',
  'cer',
  'asa',
  'jsp',
  'jspx',
  'jsw',
  'jsv',
  'jspf',
  'cfm',
  'cfml',
  'cgi',
  'pl',
  'py',
  'rb',
  'sh',
  'bash',
  'exe',
  'dll',
  'com',
  'bat',
  'cmd',
  'ps1',
  'vbs',
  'vbe',
  'js',
  'mjs',
  'jse',
  'wsf',
  'wsh',
  'msi',
  'scr',
  'hta',
  'htaccess',
  'htm',
  'html',
  'xhtml',
  'shtml',
  'shtm',
  'stm',
  'svg',
  'svgz',
  'xml',
  'swf',
  'jar',
  'war',
  'config',
]);

/** Extensions that name the same type; the first is canonical. */
const EXTENSION_ALIASES: Readonly<Record<string, readonly string[]>> = {
  'image/jpeg': ['jpg', 'jpeg', 'jpe', 'jfif'],
  'image/png': ['png'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'image/avif': ['avif'],
  'image/tiff': ['tif', 'tiff'],
  'image/bmp': ['bmp'],
  'application/pdf': ['pdf'],
  'application/zip': ['zip'],
  'text/plain': ['txt', 'text', 'log', 'csv', 'md'],
  'text/csv': ['csv'],
  'application/json': ['json'],
  'text/html': ['html', 'htm'],
  'image/svg+xml': ['svg'],
  'application/xml': ['xml'],
  'audio/mpeg': ['mp3'],
  'video/mp4': ['mp4', 'm4v'],
};

/** Declared types that mean the same as a sniffed one. */
const MIME_ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'application/x-pdf': 'application/pdf',
  'text/xml': 'application/xml',
  'application/x-zip-compressed': 'application/zip',
};

/**
 * Patterns from the WHATWG MIME Sniffing standard ("identifying a resource with an unknown MIME
 * type"): a browser renders such a file as HTML whatever its name says. Compared on the first
 * bytes after whitespace, case-insensitively, each followed by a space or `>`.
 */
const HTML_SIGNATURES = [
  '<!doctype html',
  '<html',
  '<head',
  '<script',
  '<iframe',
  '<h1',
  '<div',
  '<font',
  '<table',
  '<a',
  '<style',
  '<title',
  '<b',
  '<body',
  '<br',
  '<p',
  '<!--',
];

function sniffText(data: Uint8Array): { mime: string; ext: string } | undefined {
  let start = 0;
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) start = 3;
  while (start < data.length && (data[start] === 0x20 || (data[start]! >= 0x09 && data[start]! <= 0x0d)))
    start++;
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(data.subarray(start, start + 1024))
    .toLowerCase();
  if (head.startsWith('<?xml') || head.startsWith('<svg')) {
    return head.includes('<svg')
      ? { mime: 'image/svg+xml', ext: 'svg' }
      : { mime: 'application/xml', ext: 'xml' };
  }
  for (const signature of HTML_SIGNATURES) {
    if (!head.startsWith(signature)) continue;
    const after = head.charCodeAt(signature.length);
    if (signature === '<!--' || after === 32 || after === 62 || Number.isNaN(after))
      return { mime: 'text/html', ext: 'html' };
  }
  // Script or markup later in a text file still makes it active when rendered.
  if (/<(?:script|svg|iframe|html|body)[\s/>]/.test(head)) return { mime: 'text/html', ext: 'html' };
  return undefined;
}

function isPlainText(data: Uint8Array): boolean {
  const sample = data.subarray(0, 8192);
  for (const byte of sample) {
    if (byte === 0) return false;
    if (byte < 0x09 || (byte > 0x0d && byte < 0x20 && byte !== 0x1b)) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(
      sample.length === data.length ? data : sample.subarray(0, lastCompleteCharacter(sample)),
    );
    return true;
  } catch {
    return false;
  }
}

/** Cuts a sample before a UTF-8 sequence that the sampling split. */
function lastCompleteCharacter(sample: Uint8Array): number {
  let end = sample.length;
  let back = 0;
  while (end > 0 && back < 4 && (sample[end - 1]! & 0xc0) === 0x80) {
    end--;
    back++;
  }
  if (end > 0 && sample[end - 1]! >= 0xc0) end--;
  return end;
}

/** Leading dots hide files; trailing dots and spaces are dropped by Windows. (A loop: `/[.\s]+$/` backtracks quadratically.) */
function trimDotsAndSpaces(name: string): string {
  let start = 0;
  let end = name.length;
  const trimmable = (c: number) => c === 46 || c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000;
  while (start < end && trimmable(name.charCodeAt(start))) start++;
  while (end > start && trimmable(name.charCodeAt(end - 1))) end--;
  return name.slice(start, end);
}

const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?$/i;

/**
 * A file name safe to store and serve: the last path component only, NFKC, no control or
 * bidirectional characters, no characters Windows forbids, no leading dots, bounded length.
 * Returns undefined when nothing usable is left.
 *
 * @example
 * ```ts
 * sanitizeFilename('../../etc/passwd'); // 'passwd'
 * sanitizeFilename('report\u202Egpj.exe'); // 'reportgpj.exe'
 * ```
 */
export function sanitizeFilename(name: string, maxBytes = 200): string | undefined {
  let base = nfkc(name);
  const slash = Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\'));
  if (slash !== -1) base = base.slice(slash + 1);
  let out = '';
  for (const ch of base) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) continue;
    if (
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069) ||
      c === 0x200e ||
      c === 0x200f ||
      c === 0xfeff
    )
      continue;
    if ('<>:"|?*'.includes(ch)) continue;
    out += ch;
  }
  out = trimDotsAndSpaces(out);
  if (out.length === 0) return undefined;
  if (WINDOWS_RESERVED.test(out)) out = `_${out}`;
  const encoder = new TextEncoder();
  while (encoder.encode(out).length > maxBytes) {
    const dot = out.lastIndexOf('.');
    const ext = dot > 0 && out.length - dot <= 10 ? out.slice(dot) : '';
    const stem = out.slice(0, out.length - ext.length);
    out = Array.from(stem).slice(0, -1).join('') + ext;
  }
  return out;
}

function extensionsOf(filename: string): string[] {
  const parts = filename.toLowerCase().split('.');
  return parts.slice(1);
}

function reject(
  code: 'FILE_TOO_LARGE' | 'UNSUPPORTED_FILE_TYPE' | 'UPLOAD_REJECTED',
  message: string,
  reason: string,
  details: Record<string, unknown> = {},
): never {
  throw new InputGuardError(code, message, { details: { reason, ...details } });
}

/**
 * Validates an upload and returns its established type and a safe name, or throws an
 * `InputGuardError` (`FILE_TOO_LARGE`, `UNSUPPORTED_FILE_TYPE`, `UPLOAD_REJECTED`) whose
 * `details.reason` says why.
 *
 * @example
 * ```ts
 * const upload = await validateUpload(
 *   { data: bytes, filename: 'avatar.png', mimeType: 'image/png' },
 *   { allowedTypes: ['image/png', 'image/jpeg'], maxBytes: 2 * 1024 * 1024 },
 * );
 * upload.filename; // 'avatar.png'
 * ```
 */
export async function validateUpload(
  file: UploadedFile,
  options: UploadOptions = {},
): Promise<ValidatedUpload> {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const allowed = new Set((options.allowedTypes ?? DEFAULT_ALLOWED).map((t) => t.toLowerCase()));
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) {
    throw new InputGuardError('INVALID_OPTIONS', 'maxBytes must be a positive number', {
      details: { option: 'maxBytes' },
    });
  }
  if (!(file.data instanceof Uint8Array)) {
    throw new InputGuardError('INVALID_OPTIONS', 'file.data must be a Uint8Array or Buffer', {
      details: { option: 'data' },
    });
  }
  if (file.data.length > maxBytes) {
    reject('FILE_TOO_LARGE', `The file is larger than ${maxBytes} bytes`, 'upload.too-large', { maxBytes });
  }
  if (file.data.length === 0) reject('UPLOAD_REJECTED', 'The file is empty', 'upload.empty');

  const filename = sanitizeFilename(file.filename, options.maxFilenameBytes ?? 200);
  if (filename === undefined)
    reject('UPLOAD_REJECTED', 'The file name is empty once sanitised', 'upload.bad-filename');
  const extensions = extensionsOf(filename);
  if (extensions.length === 0)
    reject('UPLOAD_REJECTED', 'The file name has no extension', 'upload.no-extension');
  const hidden = extensions.slice(0, -1).filter((ext) => EXECUTABLE_EXTENSIONS.has(ext));
  if (hidden.length > 0) {
    reject(
      'UPLOAD_REJECTED',
      'The file name hides an executable extension before its last one',
      'upload.double-extension',
    );
  }

  // What the bytes are: binary signatures first, then text formats browsers would render.
  let binary = await fileTypeFromBuffer(file.data);
  // file-type stops at "XML"; what matters is whether it is SVG or XHTML, which browsers run.
  if (binary !== undefined && (binary.mime === 'application/xml' || binary.mime === 'text/xml')) {
    binary = sniffText(file.data) ?? binary;
  }
  const text = binary === undefined ? sniffText(file.data) : undefined;
  let sniffed: { mime: string; ext: string } | undefined = binary ?? text;
  if (sniffed === undefined && isPlainText(file.data)) {
    const ext = extensions[extensions.length - 1]!;
    sniffed =
      ext === 'csv'
        ? { mime: 'text/csv', ext: 'csv' }
        : ext === 'json'
          ? { mime: 'application/json', ext: 'json' }
          : { mime: 'text/plain', ext: 'txt' };
  }
  if (sniffed === undefined)
    reject(
      'UNSUPPORTED_FILE_TYPE',
      'The file type could not be established from its content',
      'upload.unknown-type',
    );
  const mime = MIME_ALIASES[sniffed.mime] ?? sniffed.mime;

  const declared = file.mimeType.split(';')[0]!.trim().toLowerCase();
  const declaredMime = MIME_ALIASES[declared] ?? declared;
  const active =
    ACTIVE_TYPES.has(mime) ||
    ACTIVE_TYPES.has(declaredMime) ||
    EXECUTABLE_EXTENSIONS.has(extensions[extensions.length - 1]!);
  if (active && !(options.allowActiveContent === true && allowed.has(mime))) {
    reject(
      'UNSUPPORTED_FILE_TYPE',
      'Active content (HTML, SVG, XML or script) is not accepted',
      'upload.active-content',
      { detectedType: mime },
    );
  }
  if (!allowed.has(mime)) {
    reject('UNSUPPORTED_FILE_TYPE', `Files of type ${mime} are not accepted`, 'upload.type-not-allowed', {
      detectedType: mime,
    });
  }
  const textual = mime.startsWith('text/') || mime === 'application/json';
  if (
    declaredMime !== mime &&
    !(textual && (declaredMime === 'text/plain' || declaredMime === 'application/octet-stream'))
  ) {
    reject(
      'UPLOAD_REJECTED',
      'The declared MIME type does not match the file content',
      'upload.mime-mismatch',
      { detectedType: mime },
    );
  }
  const extension = extensions[extensions.length - 1]!;
  const known = EXTENSION_ALIASES[mime] ?? [sniffed.ext];
  if (!known.includes(extension)) {
    reject(
      'UPLOAD_REJECTED',
      'The file extension does not match the file content',
      'upload.extension-mismatch',
      { detectedType: mime },
    );
  }
  return { mimeType: mime, extension: known[0]!, filename, size: file.data.length };
}

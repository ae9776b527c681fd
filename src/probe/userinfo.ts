// Credentials in a check URL (http://user:pass@host/...), handled as Go's net/http does:
// url.Parse accepts only a restricted userinfo, percent-decodes it to raw bytes, and
// Client.send turns it into `Authorization: Basic base64(user ":" pass)` for each request
// that has no Authorization header of its own. Credentials never appear in anything we
// print: messages use the URL without userinfo, and redactUserinfo() covers raw text.

/** Go's url.validUserinfo: RFC 3986 unreserved, sub-delims, ':', '@' and '%' (escapes checked apart). */
const VALID_USERINFO = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]*$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/**
 * The raw userinfo of an absolute URL string as Go's url.Parse splits it (fragment, then query,
 * then the authority up to the first '/', then everything before its last '@'); undefined when
 * the URL has none.
 */
export function rawUserinfo(text: string): string | undefined {
  const beforeFragment = text.split('#', 1)[0] as string;
  const beforeQuery = beforeFragment.split('?', 1)[0] as string;
  const schemeEnd = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(beforeQuery);
  if (!schemeEnd) return undefined;
  const rest = beforeQuery.slice(schemeEnd[0].length);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf('@');
  return at === -1 ? undefined : authority.slice(0, at);
}

/** Why Go's url.Parse would refuse this userinfo, or undefined when it accepts it. */
export function userinfoProblem(userinfo: string): string | undefined {
  if (!VALID_USERINFO.test(userinfo)) return 'net/url: invalid userinfo';
  if (BAD_ESCAPE.test(userinfo)) return 'invalid URL escape in userinfo';
  return undefined;
}

const PERCENT_SIGN = 0x25;

/** Percent-decodes to raw bytes, like Go's url.unescape (which allows any byte, even non-UTF-8). */
function percentDecode(encoded: string): Buffer {
  if (!encoded.includes('%')) return Buffer.from(encoded, 'latin1');
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const char = encoded.charCodeAt(i);
    const escape = char === PERCENT_SIGN ? encoded.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(escape)) {
      bytes.push(parseInt(escape, 16));
      i += 2;
    } else bytes.push(char);
  }
  return Buffer.from(bytes);
}

/**
 * The Basic credentials Go would send for this URL, or undefined when it has no userinfo.
 * WHATWG's username/password are percent-encoded supersets of Go's accepted userinfo, so
 * decoding them to bytes yields exactly Go's Username()/Password(). (The one input WHATWG
 * cannot tell apart, a bare "@" with nothing before it, is treated as no userinfo.)
 */
export function basicAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const credentials = Buffer.concat([
    percentDecode(url.username),
    Buffer.from(':'),
    percentDecode(url.password),
  ]);
  return `Basic ${credentials.toString('base64')}`;
}

/** The URL without userinfo: the form every message, log line and Referer uses. */
export function withoutUserinfo(url: URL): URL {
  if (url.username === '' && url.password === '') return url;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy;
}

/** Replaces the userinfo of every URL in free text (a configuration value, a Location) with ***. */
export function redactUserinfo(text: string): string {
  // Greedy up to the authority's last '@', whatever it contains: too much redacted beats a leak.
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#|]*@/g, '$1***@');
}

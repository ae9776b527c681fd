// URLs from configuration may carry credentials: `user:password@` (sent as Basic auth) or
// `?apikey=...`. Every path that logs or exposes a URL, or text that may contain one
// (configuration errors, check messages), passes it through redactUrls first.

const MASK = '***';

/** A URL with a scheme, up to whitespace, a quote, an angle bracket or `|` (the extra-check separator). */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>|`]+/gi;

/** `text` with user info, query values and fragment of every URL in it masked; other text unchanged. */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, redactOneUrl);
}

function redactOneUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return redactLoosely(text);
  }
  const hasUserInfo = url.username !== '' || url.password !== '';
  const hasQueryValue = [...url.searchParams.values()].some((value) => value !== '');
  if (!hasUserInfo && !hasQueryValue && url.hash === '') return text;
  const query = url.search === '' ? '' : `?${maskQueryValues(url.search.slice(1))}`;
  const fragment = url.hash === '' ? '' : `#${MASK}`;
  // URL.host never contains user info, so only our mask can stand before the host.
  return `${url.protocol}//${hasUserInfo ? `${MASK}@` : ''}${url.host}${url.pathname}${query}${fragment}`;
}

/** Keeps parameter names (useful when reading a log), masks every value. */
function maskQueryValues(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals < 0 ? pair : `${pair.slice(0, equals)}=${MASK}`;
    })
    .join('&');
}

/** For text that looks like a URL but does not parse: the same masks, by pattern. */
function redactLoosely(text: string): string {
  const schemeEnd = text.indexOf('://') + 3;
  let rest = text.slice(schemeEnd);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at >= 0) rest = `${MASK}@${rest.slice(at + 1)}`;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = `${rest.slice(0, hash)}#${MASK}`;
  const question = rest.indexOf('?');
  if (question >= 0) {
    const end = rest.indexOf('#', question);
    const query = end < 0 ? rest.slice(question + 1) : rest.slice(question + 1, end);
    rest = `${rest.slice(0, question)}?${maskQueryValues(query)}${end < 0 ? '' : rest.slice(end)}`;
  }
  return `${text.slice(0, schemeEnd)}${rest}`;
}

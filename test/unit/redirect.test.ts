// Go's redirect and URL-credential rules (net/http client.go, net/url url.go), as pure tables.
import { describe, expect, it } from 'vitest';
import {
  isDomainOrSubdomain,
  isFollowedRedirect,
  RedirectChain,
  refererFor,
} from '../../src/probe/redirect.ts';
import {
  basicAuthorization,
  rawUserinfo,
  redactUserinfo,
  userinfoProblem,
} from '../../src/probe/userinfo.ts';

const basic = (credentials: string | Buffer) =>
  `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('which answers are followed', () => {
  it('301, 302, 303, 307 and 308, nothing else', () => {
    const followed = [];
    for (let status = 100; status < 600; status++)
      if (isFollowedRedirect(status)) followed.push(status);
    expect(followed).toEqual([301, 302, 303, 307, 308]);
  });
});

describe('isDomainOrSubdomain (Go)', () => {
  it.each([
    ['foo.com', 'foo.com', true],
    ['sub.foo.com', 'foo.com', true],
    ['a.b.foo.com', 'foo.com', true],
    ['barfoo.com', 'foo.com', false],
    ['foo.com', 'sub.foo.com', false],
    ['bar.com', 'foo.com', false],
    ['10.0.0.1', '0.0.1', true], // Go compares names as text, IP literals included
    ['::1', '::1', true],
    ['fe80::1%.foo.com', 'foo.com', false],
    ['x:foo.com', 'foo.com', false],
  ])('%s under %s: %s', (sub, parent, expected) => {
    expect(isDomainOrSubdomain(sub, parent)).toBe(expected);
  });
});

describe('RedirectChain', () => {
  const start = () =>
    new RedirectChain(new URL('http://api.example.com:8080/version'), {
      authorization: 'Bearer t0ken',
      cookie: 'a=b',
      'proxy-authorization': 'Basic cHJveHk=',
      'kubenurse-neighbour-origin': 'pod-a',
    });

  it('resolves a relative Location against the current hop and keeps every header', () => {
    const chain = start();
    const next = chain.follow('../b/c?x=1');
    expect(next).toHaveProperty('hop');
    if (!('hop' in next)) return;
    expect(next.hop.url.href).toBe('http://api.example.com:8080/b/c?x=1');
    expect(next.hop.headers).toMatchObject({
      authorization: 'Bearer t0ken',
      cookie: 'a=b',
      'kubenurse-neighbour-origin': 'pod-a',
      referer: 'http://api.example.com:8080/version',
    });
    expect(chain.redirects).toBe(1);
  });

  it('keeps credentials for another port of the host and for subdomains', () => {
    for (const location of ['http://api.example.com:9090/', 'https://x.api.example.com/']) {
      const next = start().follow(location);
      expect('hop' in next && next.hop.headers.authorization).toBe('Bearer t0ken');
    }
  });

  it('drops the sensitive headers for another domain, for good (CVE-2024-45336)', () => {
    const chain = start();
    const away = chain.follow('http://other.example.net/x');
    if (!('hop' in away)) throw new Error('expected a hop');
    expect(Object.keys(away.hop.headers).sort()).toEqual(['kubenurse-neighbour-origin', 'referer']);
    const back = chain.follow('http://api.example.com:8080/version');
    if (!('hop' in back)) throw new Error('expected a hop');
    expect(back.hop.headers.authorization).toBeUndefined();
    expect(back.hop.headers.cookie).toBeUndefined();
    expect(back.hop.headers['kubenurse-neighbour-origin']).toBe('pod-a');
  });

  it('a parent domain is not a subdomain', () => {
    const chain = new RedirectChain(new URL('https://a.b.example.com/'), { Authorization: 'x' });
    const next = chain.follow('https://b.example.com/');
    if (!('hop' in next)) throw new Error('expected a hop');
    expect(next.hop.headers.Authorization).toBeUndefined();
  });

  it("follows 10 redirects and stops before the 11th with Go's text and the raw Location", () => {
    const chain = start();
    for (let i = 1; i <= 10; i++) expect(chain.follow(`/r/${i}`)).toHaveProperty('hop');
    expect(chain.follow('/r/11')).toEqual({
      error: 'Get "/r/11": stopped after 10 redirects',
      kind: 'policy',
    });
  });

  it('an unsupported scheme fails the next round trip', () => {
    expect(start().follow('ftp://files.example.com/x')).toEqual({
      error: 'Get "ftp://files.example.com/x": unsupported protocol scheme "ftp"',
      kind: 'round_trip',
    });
  });

  it('a Location Go cannot parse ends the chain, without echoing credentials', () => {
    const result = start().follow('http://us er:s3cret@other.example.net/');
    expect(result).toMatchObject({ kind: 'policy' });
    expect('error' in result && result.error).toMatch(
      /^Get "http:\/\/api\.example\.com:8080\/version": failed to parse Location header "http:\/\/\*\*\*@other\.example\.net\/"/,
    );
    expect(JSON.stringify(result)).not.toContain('s3cret');
  });
});

describe('refererFor (Go refererForURL)', () => {
  it('is the previous URL without credentials, never from https to http', () => {
    expect(refererFor(new URL('http://u:p@a/x?q=1#f'), new URL('http://b/'))).toBe(
      'http://a/x?q=1',
    );
    expect(refererFor(new URL('https://a/x'), new URL('http://a/y'))).toBeUndefined();
    expect(refererFor(new URL('http://a/x'), new URL('https://a/y'))).toBe('http://a/x');
  });
});

describe('URL credentials (Go url.Parse + Client.send)', () => {
  it('finds the userinfo Go would split off, up to the last @ of the authority', () => {
    expect(rawUserinfo('http://user:pass@host/p')).toBe('user:pass');
    expect(rawUserinfo('http://a@b:c@host:80/p?x=@y#@')).toBe('a@b:c');
    expect(rawUserinfo('http://host/p@q')).toBeUndefined();
    expect(rawUserinfo('http://host/?u=a@b')).toBeUndefined();
    expect(rawUserinfo('/relative@x')).toBeUndefined();
  });

  it('accepts what Go accepts', () => {
    expect(userinfoProblem("u-._~!$&'()*+,;=:@%41")).toBeUndefined();
    expect(userinfoProblem('us er:x')).toBe('net/url: invalid userinfo');
    expect(userinfoProblem('user:pä')).toBe('net/url: invalid userinfo');
    expect(userinfoProblem('user:100%')).toBe('invalid URL escape in userinfo');
    expect(userinfoProblem('user:%zz')).toBe('invalid URL escape in userinfo');
  });

  it("sends Basic base64(user:password) with Go's percent-decoding", () => {
    const auth = (text: string) => basicAuthorization(new URL(text));
    expect(auth('http://host/')).toBeUndefined();
    expect(auth('http://user:pass@host/')).toBe(basic('user:pass'));
    expect(auth('http://user@host/')).toBe(basic('user:'));
    expect(auth('http://user:@host/')).toBe(basic('user:'));
    expect(auth('http://:pass@host/')).toBe(basic(':pass'));
    expect(auth('http://us%40er:p%3Ass@host/')).toBe(basic('us@er:p:ss'));
    expect(auth('http://user:a+b@host/')).toBe(basic('user:a+b'));
    expect(auth('http://user:a;b=c@host/')).toBe(basic('user:a;b=c'));
    expect(auth('http://user:a:b@host/')).toBe(basic('user:a:b'));
    expect(auth('http://a@b:c@host/')).toBe(basic('a@b:c'));
    expect(auth('http://user:%E2%82%AC@host/')).toBe(basic('user:€'));
    // Go decodes to raw bytes, valid UTF-8 or not.
    expect(auth('http://user:%FF@host/')).toBe(
      basic(Buffer.concat([Buffer.from('user:'), Buffer.from([0xff])])),
    );
  });

  it('redacts the userinfo of every URL in a text', () => {
    expect(redactUserinfo('a:http://u:p@h/x|b:https://t@k/y')).toBe(
      'a:http://***@h/x|b:https://***@k/y',
    );
    expect(redactUserinfo('http://h/x?u=a@b')).toBe('http://h/x?u=a@b');
  });
});

import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/metrics.ts';
import { classifyFailure, type Progress } from '../../src/probe/classify.ts';

function progress(reached: TraceEvent[], { needsDns = true, isTls = true } = {}): Progress {
  return { needsDns, isTls, reached: new Set(reached) };
}

function errno(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyFailure', () => {
  it('a DNS error code is a dns_done failure whatever the progress', () => {
    expect(classifyFailure(progress(['dns_start']), errno('ENOTFOUND'))).toBe('dns_done');
    expect(classifyFailure(progress(['dns_start']), errno('EAI_AGAIN'))).toBe('dns_done');
  });

  it('finds the socket error below undici wrappers', () => {
    const wrapped = Object.assign(new Error('fetch failed'), {
      code: 'UND_ERR_SOCKET',
      cause: errno('ECONNREFUSED'),
    });
    expect(classifyFailure(progress(['dns_start', 'dns_done', 'connect_start']), wrapped)).toBe(
      'connect_done',
    );
  });

  it('certificate errors are tls_handshake_done', () => {
    for (const code of [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'CERT_HAS_EXPIRED',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SSL_WRONG_VERSION_NUMBER',
    ]) {
      expect(
        classifyFailure(
          progress([
            'dns_start',
            'dns_done',
            'connect_start',
            'connect_done',
            'tls_handshake_start',
          ]),
          errno(code),
        ),
      ).toBe('tls_handshake_done');
    }
  });

  it('without a known code, the first unfinished phase failed (a deadline: where it was stuck)', () => {
    const abort = new DOMException('aborted', 'AbortError');
    expect(classifyFailure(progress(['dns_start']), abort)).toBe('dns_done');
    expect(classifyFailure(progress(['connect_start'], { needsDns: false }), abort)).toBe(
      'connect_done',
    );
    expect(
      classifyFailure(
        progress(['connect_start', 'connect_done', 'tls_handshake_start'], { needsDns: false }),
        abort,
      ),
    ).toBe('tls_handshake_done');
    expect(
      classifyFailure(
        progress(['connect_start', 'connect_done', 'got_conn'], { needsDns: false, isTls: false }),
        abort,
      ),
    ).toBe('wrote_request');
    expect(
      classifyFailure(
        progress(['connect_start', 'connect_done', 'got_conn', 'wrote_request'], {
          needsDns: false,
          isTls: false,
        }),
        abort,
      ),
    ).toBe('round_trip_error');
  });

  it('a reused connection skips connect and TLS phases', () => {
    expect(
      classifyFailure(
        progress(['got_conn', 'wrote_request'], { needsDns: true, isTls: true }),
        new Error('socket hang up'),
      ),
    ).toBe('round_trip_error');
    expect(
      classifyFailure(
        progress(['got_conn'], { needsDns: true, isTls: true }),
        new Error('write EPIPE'),
      ),
    ).toBe('wrote_request');
    expect(
      classifyFailure(
        progress(['dns_done', 'got_conn', 'wrote_request'], { isTls: true }),
        new Error('other side closed'),
      ),
    ).toBe('round_trip_error');
  });
});

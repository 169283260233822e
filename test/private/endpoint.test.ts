import { normalizeHost, normalizeUrl } from '../../src/private/endpoint';

describe('normalizeHost', () => {
  test.each([
    ['db', 'db'],
    ['DB.Shop.svc', 'db.shop.svc'],
    ['db.example.com.', 'db.example.com.'],
    ['10.0.0.1', '10.0.0.1'],
    ['[::1]', '::1'],
    ['my_db.example.com', 'my_db.example.com'],
    ['1password.com', '1password.com'],
    ['db.0x7f-mirror.example', 'db.0x7f-mirror.example'],
  ])('accepts %s', (host, normalized) => {
    expect(normalizeHost('S', host)).toBe(normalized);
  });

  test.each(['999.1.1.1', '10.0.0.256', '1.2.3', '123', '1.2.3.4.', '10.1.0x7f', 'db.0x1'])('rejects %s, read as a (bad) IPv4 address', host => {
    expect(() => normalizeHost('S', host)).toThrow(
      `S: host ${JSON.stringify(host)} is not a valid IP address (four numbers from 0 to 255), and a DNS name cannot end in a numeric label`);
  });

  test.each(['', '.', 'db..', 'db..svc', '-db', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}com`])('rejects %j', host => {
    expect(() => normalizeHost('S', host)).toThrow(`S: host ${JSON.stringify(host)} is not a valid DNS name or IP address`);
  });
});

describe('normalizeUrl', () => {
  const http = ['http', 'https'];
  test.each([
    ['HTTPS://Example.com/a', 'https://Example.com/a'],
    ['Http://example.com:8080/a?b#c', 'http://example.com:8080/a?b#c'],
    ['http://example.com.:/a', 'http://example.com.:/a'],
    ['http://[::1]:65535/', 'http://[::1]:65535/'],
    ['https://x', 'https://x'],
    ['http://x/a@b', 'http://x/a@b'],
  ])('accepts %s', (url, normalized) => {
    expect(normalizeUrl('S', url, http)).toBe(normalized);
  });

  test.each(['0', '65536', '100000', '-1', 'http'])('rejects port %j', port => {
    const url = `http://example.com:${port}/a`;
    expect(() => normalizeUrl('S', url, http)).toThrow(`S: URL ${JSON.stringify(url)}: port ${JSON.stringify(port)} is not an integer from 1 to 65535`);
  });

  test('rejects a bad host, credentials, another scheme', () => {
    expect(() => normalizeUrl('S', 'http://999.1.1.1:80/', http)).toThrow('S: URL "http://999.1.1.1:80/": host "999.1.1.1" is not a valid IP address');
    expect(() => normalizeUrl('S', 'http:///a', http)).toThrow('S: URL "http:///a": host "" is not a valid DNS name or IP address');
    expect(() => normalizeUrl('S', 'https://u:p@x/a', http)).toThrow('S: URL "https://u:p@x/a" contains credentials');
    expect(() => normalizeUrl('S', 'ftp://x/a', http)).toThrow('S: URL "ftp://x/a" must be a http/https URL');
  });

  test('ssh keeps its user; file may have no host', () => {
    expect(normalizeUrl('S', 'SSH://git@example.com:22/r.git', ['ssh'])).toBe('ssh://git@example.com:22/r.git');
    expect(normalizeUrl('S', 'file:///srv/r.git', ['file'])).toBe('file:///srv/r.git');
  });
});

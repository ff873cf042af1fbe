import { blockedAddressReason, isMetadataHost, METADATA_HOSTS } from './address-guard';

describe('blockedAddressReason', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.99', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
  ])('refuses IPv4 %s (%s)', (ip, reason) => {
    expect(blockedAddressReason(ip)).toBe(reason);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0'])(
    'allows public IPv4 %s',
    (ip) => {
      expect(blockedAddressReason(ip)).toBeNull();
    },
  );

  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
  ])('refuses IPv6 %s (%s)', (ip, reason) => {
    expect(blockedAddressReason(ip)).toBe(reason);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:A9FE:A9FE', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0:192.168.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['::10.1.2.3', 'private'],
    ['::8.8.8.8', 'reserved'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b:1::10.0.0.1', 'private'],
    ['64:ff9b:1:7f00:1::', 'reserved'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::', 'private'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
  ])('classifies the IPv4 address embedded in %s (%s)', (ip, reason) => {
    expect(blockedAddressReason(ip)).toBe(reason);
  });

  it.each([
    '2606:4700:4700::1111',
    '2a00:1450:4001:82a::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows public IPv6 %s', (ip) => {
    expect(blockedAddressReason(ip)).toBeNull();
  });

  it('refuses anything that is not an IP address', () => {
    for (const text of ['', 'localhost', '127.1', '0x7f000001', '1.2.3.4.5', ':::1', 'fe80::1::2']) {
      expect(blockedAddressReason(text)).toBe('invalid address');
    }
  });
});

describe('isMetadataHost', () => {
  it('recognises cloud metadata host names, case- and trailing-dot-insensitively', () => {
    expect(METADATA_HOSTS).toEqual(expect.arrayContaining(['metadata.google.internal', 'metadata', 'instance-data']));
    for (const host of ['metadata.google.internal', 'METADATA.Google.Internal.', 'metadata', 'metadata.goog']) {
      expect(isMetadataHost(host)).toBe(true);
    }
    for (const host of ['instance-data', 'instance-data.ec2.internal']) expect(isMetadataHost(host)).toBe(true);
  });

  it('does not flag ordinary hosts', () => {
    for (const host of ['example.com', 'metadata.example.com', 'google.internal', 'my-metadata']) {
      expect(isMetadataHost(host)).toBe(false);
    }
  });
});

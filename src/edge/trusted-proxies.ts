// The peers whose word the edge takes on how a request reached them: a load balancer or TLS
// terminator in front (`berth edge --trust-proxy`). Their X-Forwarded-Proto, -Host and -Port are
// kept, their Forwarded read, and the client they name is the one IP affinity keys on
// (forwarded-headers.ts). Decided once per client connection, by the address it comes from; the
// same list says where the walk back through X-Forwarded-For stops.
import net from 'node:net';

const HOW = 'write addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1';

export class TrustedProxies {
  private readonly list = new net.BlockList();

  /** `entries`: addresses and CIDR ranges (10.0.0.0/8, 127.0.0.1, fd00::/8). Throws on a bad one, naming it and the fix. */
  constructor(readonly entries: readonly string[]) {
    if (entries.length === 0) throw new Error(`lists no proxy; ${HOW}`);
    for (const entry of entries) this.add(entry);
  }

  /** "10.0.0.0/8,127.0.0.1" as one list; spaces around the commas are fine. */
  static parse(text: string): TrustedProxies {
    return new TrustedProxies(
      text
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    );
  }

  /** Whether a connection from `address` (IPv4-mapped IPv6 already unwrapped, as clientAddress() does) is from a trusted proxy; no for what is no address. */
  trusts(address: string): boolean {
    if (address === '') return false;
    return this.list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
  }

  private add(entry: string): void {
    const slash = entry.indexOf('/');
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const version = net.isIP(address);
    if (version === 0) throw new Error(`"${entry}" is not an IP address or CIDR range; ${HOW}`);
    const family = version === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) return this.list.addAddress(address, family);
    const bits = version === 4 ? 32 : 128;
    const prefix = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
      throw new Error(`"${entry}" is not a CIDR range: an IPv${version} prefix is /0 to /${bits}; write e.g. ${version === 4 ? '10.0.0.0/8' : 'fd00::/8'}`);
    }
    this.list.addSubnet(address, Number(prefix), family);
  }
}

/** Pod addresses on loopback: 127.0.1.1 … 127.0.255.254 (127.0.0.x stays for the control plane). */
export class AddressPool {
  private readonly used = new Set<number>();
  private next = 0;
  private static readonly SIZE = 255 * 254;

  allocate(): string {
    for (let i = 0; i < AddressPool.SIZE; i++) {
      const n = (this.next + i) % AddressPool.SIZE;
      if (!this.used.has(n)) {
        this.used.add(n);
        this.next = n + 1;
        return `127.0.${Math.floor(n / 254) + 1}.${(n % 254) + 1}`;
      }
    }
    throw new Error('no free pod address left in 127.0.1.1-127.0.255.254');
  }

  release(ip: string): void {
    const m = /^127\.0\.(\d+)\.(\d+)$/.exec(ip);
    if (m) this.used.delete((Number(m[1]) - 1) * 254 + Number(m[2]) - 1);
  }
}

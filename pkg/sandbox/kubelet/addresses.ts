/**
 * Pod addresses on loopback: 127.0.<block>.1 … 127.0.<block>.254 over a range of blocks (default
 * 1-255; 127.0.0.x stays for the control plane). Two sandboxes on one machine (`make run` and the
 * test suite) use disjoint blocks so their pods never share an address.
 */
export class AddressPool {
  private readonly used = new Set<number>();
  private next = 0;
  private readonly size: number;

  constructor(
    private readonly firstBlock = 1,
    lastBlock = 255,
  ) {
    if (!(firstBlock >= 1 && lastBlock <= 255 && firstBlock <= lastBlock)) {
      throw new Error(`pod address blocks must lie within 1-255, got ${firstBlock}-${lastBlock}`);
    }
    this.size = (lastBlock - firstBlock + 1) * 254;
  }

  allocate(): string {
    for (let i = 0; i < this.size; i++) {
      const n = (this.next + i) % this.size;
      if (!this.used.has(n)) {
        this.used.add(n);
        this.next = n + 1;
        return `127.0.${this.firstBlock + Math.floor(n / 254)}.${(n % 254) + 1}`;
      }
    }
    throw new Error(`no free pod address left in 127.0.${this.firstBlock}.1 and the blocks after it`);
  }

  release(ip: string): void {
    const m = /^127\.0\.(\d+)\.(\d+)$/.exec(ip);
    if (m) this.used.delete((Number(m[1]) - this.firstBlock) * 254 + Number(m[2]) - 1);
  }
}

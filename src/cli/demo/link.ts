import { TcpProxy } from '../../testing/tcp-proxy.js';

/** One candidate's network path to etcd: a cuttable proxy per etcd member. */
export class Link {
  readonly #proxies: TcpProxy[];

  private constructor(proxies: TcpProxy[]) {
    this.#proxies = proxies;
  }

  static async open(memberEndpoints: readonly string[]): Promise<Link> {
    const proxies: TcpProxy[] = [];
    try {
      for (const endpoint of memberEndpoints) proxies.push(await TcpProxy.start(endpoint));
    } catch (err) {
      await Promise.all(proxies.map((p) => p.close()));
      throw err;
    }
    return new Link(proxies);
  }

  /** What the candidate connects to, in etcd's endpoint-list form. */
  get endpoints(): string {
    return this.#proxies.map((p) => p.endpoint).join(',');
  }

  get isCut(): boolean {
    return this.#proxies.some((p) => p.isCut);
  }

  cut(): void {
    for (const p of this.#proxies) p.cut();
  }

  heal(): void {
    for (const p of this.#proxies) p.heal();
  }

  async close(): Promise<void> {
    await Promise.all(this.#proxies.map((p) => p.close()));
  }
}

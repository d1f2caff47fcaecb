export async function demoCommand(_args: readonly string[]): Promise<number> {
  return 0;
}

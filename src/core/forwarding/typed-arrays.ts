/** `old`'s contents copied into the start of `bigger`, which is returned: how the graph's arrays grow. */
export function grown<T extends Uint8Array | Uint32Array | Int32Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}

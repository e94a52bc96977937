// The slice of Deno's API that ffi/deno.ts uses, so that `tsc --noEmit` can
// check the whole tree; `deno check` uses Deno's own, complete types.
declare namespace Deno {
  type NativeType = "i32" | "u32" | "i64" | "u64" | "usize" | "isize" | "buffer" | "pointer";
  interface ForeignFunction {
    name?: string;
    parameters: readonly NativeType[];
    result: NativeType | "void";
  }
  type ForeignLibraryInterface = Record<string, ForeignFunction>;
  type PointerObject = { readonly __brand: "PointerObject" };
  type PointerValue = PointerObject | null;
  type ResultOf<T extends NativeType | "void"> = T extends "pointer" ? PointerValue
    : T extends "i64" | "u64" | "usize" | "isize" ? number | bigint
    : T extends "void" ? undefined
    : number;
  type ParamOf<T extends NativeType> = T extends "buffer" ? BufferSource | null
    : T extends "pointer" ? PointerValue
    : T extends "i64" | "u64" | "usize" | "isize" ? number | bigint
    : number;
  type ParamsOf<T extends readonly NativeType[]> = { [K in keyof T]: T[K] extends NativeType ? ParamOf<T[K]> : never };
  interface DynamicLibrary<S extends ForeignLibraryInterface> {
    symbols: {
      [K in keyof S]: (...args: ParamsOf<S[K]["parameters"]>) => ResultOf<S[K]["result"]>;
    };
    close(): void;
  }
  function dlopen<const S extends ForeignLibraryInterface>(filename: string, symbols: S): DynamicLibrary<S>;
  const permissions: {
    querySync(desc: { name: "read" | "ffi"; path?: string }): { readonly state: "granted" | "denied" | "prompt" };
  };
  function readTextFileSync(path: string): string;
  class UnsafePointerView {
    constructor(pointer: PointerObject);
    getInt32(offset?: number): number;
    static getArrayBuffer(pointer: PointerObject, byteLength: number, offset?: number): ArrayBuffer;
  }
  class UnsafePointer {
    static create(value: bigint): PointerValue;
    static of(value: ArrayBuffer | ArrayBufferView): PointerValue;
    static value(value: PointerValue): number | bigint;
  }
  const build: { readonly os: string; readonly arch: "x86_64" | "aarch64" };
  namespace errors {
    class NotCapable extends Error {}
    class PermissionDenied extends Error {}
  }
}

// A ToolGuard written in AssemblyScript against guards/ABI.md alone — no
// SDK, no JSON library — to show the ABI is language-neutral.
//
// Tool Call hook: blocks a result that carries a PEM private key
// ("-----BEGIN ... PRIVATE KEY-----") and flags one that mentions
// "BEGIN CERTIFICATE" (public, but worth an audit mark).
//
// Tool Request hook (ABI 1.2, before the upstream runs the call): blocks a
// call whose arguments pipe a download into a shell ("| sh", "| bash").
// The host finds the hook by its export: without gh_tool_request this
// module would simply not be run pre-call.
//
// Build: asc guard.ts -o guard.wasm --optimize --runtime incremental

let input = new ArrayBuffer(0);
let verdict = new ArrayBuffer(0);

// Marker export: this module targets ABI v1.
export function gh_abi_v1(): void {}

export function gh_abi_minor(): i32 {
  return 2;
}

// The host writes each input into the buffer returned here.
export function gh_alloc(size: i32): i32 {
  if (size < 0) return 0;
  if (input.byteLength < size) input = new ArrayBuffer(size);
  return changetype<i32>(input);
}

// find returns the offset of needle in [ptr, ptr+len), or -1.
function find(ptr: i32, len: i32, needle: string): i32 {
  const n = String.UTF8.encode(needle);
  const nptr = changetype<i32>(n);
  const nlen = n.byteLength;
  for (let i = 0; i + nlen <= len; i++) {
    let j = 0;
    while (j < nlen && load<u8>(ptr + i + j) == load<u8>(nptr + j)) j++;
    if (j == nlen) return i;
  }
  return -1;
}

function emit(json: string): i64 {
  verdict = String.UTF8.encode(json);
  return (i64(changetype<i32>(verdict)) << 32) | i64(verdict.byteLength);
}

export function gh_tool_call(ptr: i32, len: i32): i64 {
  const begin = find(ptr, len, "-----BEGIN ");
  if (begin >= 0 && find(ptr + begin, len - begin, "PRIVATE KEY-----") >= 0) {
    return emit('{"v":1,"action":"block","score":0.97,"reasons":[{"code":"private-key","message":"a PEM private key is leaving in the tool output","path":"/output/text"}]}');
  }
  if (find(ptr, len, "BEGIN CERTIFICATE") >= 0) {
    return emit('{"v":1,"action":"flag","score":0.3,"reasons":[{"code":"certificate","message":"a certificate in the tool output","path":"/output/text"}]}');
  }
  return 0;
}

// argumentsAt returns the offset of the input's "arguments" member, or -1:
// the request hook judges the arguments, not the tool's description.
function argumentsAt(ptr: i32, len: i32): i32 {
  return find(ptr, len, '"arguments":');
}

export function gh_tool_request(ptr: i32, len: i32): i64 {
  const at = argumentsAt(ptr, len);
  if (at < 0) return 0;
  const aptr = ptr + at;
  const alen = len - at;
  if (find(aptr, alen, "| sh") >= 0 || find(aptr, alen, "|sh") >= 0 || find(aptr, alen, "| bash") >= 0) {
    return emit('{"v":1,"action":"block","score":0.95,"reasons":[{"code":"pipe-to-shell","message":"an argument pipes into a shell","path":"/arguments"}]}');
  }
  return 0;
}

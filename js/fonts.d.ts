// esbuild's binary loader (package.json, build:math) turns a font file into its bytes.
declare module "*.woff2" {
  const data: Uint8Array<ArrayBuffer>;
  export default data;
}

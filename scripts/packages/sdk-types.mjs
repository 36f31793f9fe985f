// The talon-sdk package's .d.ts files: TypeScript's declaration emit over lib/sdk, with every type
// that comes from a lib/contract zod schema (`z.infer<typeof ZVaultResponse>`, a contract type named
// in a signature) written out as the plain object type it stands for. The package then ships no zod,
// no contract and no server code, its types included; a consumer needs only TypeScript's DOM lib.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const FLATTEN_FLAGS =
  ts.NodeBuilderFlags.NoTruncation | ts.NodeBuilderFlags.InTypeAlias | ts.NodeBuilderFlags.MultilineObjectLiterals | ts.NodeBuilderFlags.UseStructuralFallback;

/** Imports the published declarations cannot keep: the zod types and the contract schemas. */
const isSchemaImport = (specifier) => specifier === "@hono/zod-openapi" || specifier === "zod" || specifier.startsWith("zod/") || /(^|\/)contract\//.test(specifier);

/**
 * Writes the declarations of `<root>/lib/sdk` and of the `shared` lib files it imports (paths
 * relative to the root, as the bundle's allow-list names them) into `outDir`, laid out as under
 * `lib/` (`sdk/index.d.ts`, `crypto/cmek.d.ts`), with `index.d.ts` re-exporting the SDK. Relative
 * imports end in `.js` so they resolve under every moduleResolution (nodenext included). Throws if
 * any declaration still imports something outside the package.
 */
export function emitSdkDeclarations(root, outDir, shared = []) {
  const libDir = path.join(root, "lib");
  const sdkDir = path.join(libDir, "sdk");
  const packaged = (fileName) => fileName.startsWith(`${sdkDir}${path.sep}`) || shared.some((rel) => fileName === path.join(root, rel).replace(/\.ts$/, ".d.ts"));
  const program = ts.createProgram([path.join(sdkDir, "index.ts")], {
    target: ts.ScriptTarget.ES2023,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    skipLibCheck: true,
    declaration: true,
    emitDeclarationOnly: true,
    noEmitOnError: true,
  });
  const checker = program.getTypeChecker();
  const errors = ts.getPreEmitDiagnostics(program);
  if (errors.length) throw new Error(`lib/sdk does not type-check:\n${ts.formatDiagnostics(errors, formatHost(root))}`);

  /** The local names a source file imports from the zod or contract modules. */
  const schemaNames = new Map();
  const schemaNamesOf = (source) => {
    if (!schemaNames.has(source)) {
      const names = new Set();
      for (const st of source.statements) {
        if (!ts.isImportDeclaration(st) || !isSchemaImport(st.moduleSpecifier.text) || !st.importClause) continue;
        const bindings = st.importClause.namedBindings;
        if (st.importClause.name) names.add(st.importClause.name.text);
        if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
        if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) names.add(e.name.text);
      }
      schemaNames.set(source, names);
    }
    return schemaNames.get(source);
  };
  /** The source node a declaration node was emitted from, when it has one. */
  const sourceNodeOf = (node) => {
    const original = ts.getOriginalNode(node);
    return original.pos >= 0 && original.parent ? original : null;
  };
  const leftmost = (name) => (ts.isQualifiedName(name) ? leftmost(name.left) : name);
  const flatten = (type, what) => {
    const flat = checker.typeToTypeNode(type, undefined, FLATTEN_FLAGS);
    if (!flat) throw new Error(`cannot write out type ${what}`);
    return flat;
  };

  // An alias built from a schema (`type Vault = z.infer<typeof ZVault>`, `type T = secrets.SecretType`)
  // keeps its name and gets the plain type; any other reference to a schema-module type in a
  // signature is replaced by the plain type in place.
  const flattenSchemaTypes = (context) => (file) => {
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && isSchemaImport(node.moduleSpecifier.text)) return undefined;
      const source = sourceNodeOf(node);
      if (source && ts.isTypeAliasDeclaration(node) && ts.isTypeAliasDeclaration(source)) {
        const names = schemaNamesOf(source.getSourceFile());
        if ([...names].some((name) => new RegExp(`\\b${name}\\b`).test(source.type.getText()))) {
          return context.factory.updateTypeAliasDeclaration(node, node.modifiers, node.name, node.typeParameters, flatten(checker.getTypeAtLocation(source.type), source.name.text));
        }
      }
      if (source && ts.isTypeReferenceNode(node) && ts.isTypeReferenceNode(source)) {
        if (schemaNamesOf(source.getSourceFile()).has(leftmost(source.typeName).text)) return flatten(checker.getTypeFromTypeNode(source), source.getText());
      }
      // Inferred signatures name a contract type as `import("../contract/x").Name`: write out that export.
      if (ts.isImportTypeNode(node) && !node.isTypeOf && node.qualifier && ts.isIdentifier(node.qualifier) && !node.typeArguments) {
        const spec = ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal) ? node.argument.literal.text : "";
        if (spec.startsWith(".") && isSchemaImport(spec)) return flatten(exportedType(path.dirname(ts.getOriginalNode(file).fileName), spec, node.qualifier.text), `${spec}.${node.qualifier.text}`);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitEachChild(file, visit, context);
  };
  const exportedType = (fromDir, spec, name) => {
    const target = [".ts", "/index.ts"].map((ext) => program.getSourceFile(path.resolve(fromDir, spec) + ext)).find(Boolean);
    const symbol = target && checker.getExportsOfModule(checker.getSymbolAtLocation(target)).find((e) => e.name === name);
    if (!symbol) throw new Error(`cannot find ${name} in ${spec}`);
    return checker.getDeclaredTypeOfSymbol(symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  };

  const written = [];
  const result = program.emit(
    undefined,
    (fileName, text) => {
      // Declarations of files outside lib/sdk and the shared files (the contract) are not part of the package.
      if (!packaged(fileName)) return;
      const rel = path.relative(libDir, fileName);
      const target = path.join(outDir, rel);
      mkdirSync(path.dirname(target), { recursive: true });
      const withExtensions = text.replace(/(\bfrom\s+"|\bimport\(")(\.{1,2}(?:\/[^"]*)?)"/g, (_, head, spec) => `${head}${withJsExtension(spec)}"`);
      writeFileSync(target, withExtensions);
      written.push({ rel, text: withExtensions });
    },
    undefined,
    true,
    { afterDeclarations: [flattenSchemaTypes] },
  );
  if (result.emitSkipped) throw new Error("declaration emit failed");
  mkdirSync(outDir, { recursive: true });
  const entry = 'export * from "./sdk/index.js";\n';
  writeFileSync(path.join(outDir, "index.d.ts"), entry);
  written.push({ rel: "index.d.ts", text: entry });

  const present = new Set(written.map((w) => w.rel));
  for (const { rel, text } of written) {
    for (const [, spec] of text.matchAll(/(?:\bfrom\s+|\bimport\()"([^"]+)"/g)) {
      const resolved = path.join(path.dirname(rel), spec.replace(/\.js$/, ".d.ts"));
      if (!spec.startsWith(".") || !present.has(resolved)) throw new Error(`${rel} imports "${spec}", which the package does not hold`);
    }
  }
  // The declarations must stand alone: strict, not skipped, under the resolution Node packages use.
  const standalone = ts.createProgram([path.join(outDir, "index.d.ts")], {
    noEmit: true,
    strict: true,
    skipLibCheck: false,
    types: [],
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const standaloneErrors = ts.getPreEmitDiagnostics(standalone);
  if (standaloneErrors.length) throw new Error(`talon-sdk declarations do not stand alone:\n${ts.formatDiagnostics(standaloneErrors, formatHost(outDir))}`);
  return written.map((w) => w.rel).sort();
}

/** `./client` → `./client.js`, `.` → `./index.js` (TypeScript names a re-exported type by its folder). */
const withJsExtension = (spec) => (spec.endsWith(".js") ? spec : spec === "." || spec === ".." ? `${spec}/index.js` : `${spec}.js`);

const formatHost = (root) => ({ getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" });

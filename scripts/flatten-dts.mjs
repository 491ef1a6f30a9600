#!/usr/bin/env node
// Post-build step: makes the declarations in dist/ free of zod.
//
// The zod schemas are the single source of our types (`type X = z.infer<typeof xSchema>`), so
// tsc's declarations name zod's generics, and a program that type-checks its libraries (no
// `skipLibCheck`, the tsconfig `pulumi new typescript` writes) then checks zod's own
// declarations too, which fail under `moduleResolution: node` without `esModuleInterop`.
// This step asks the TypeScript checker what each such type resolves to and prints that
// structure instead (objects, unions, literals, arrays), so users see plain types and zod's
// declarations are never loaded:
//
//   - `import ... from "zod"` is removed;
//   - `type X = <anything naming zod>` becomes `type X = <the resolved type>`;
//   - `declare const xSchema: z.Zod...` (a schema value, internal) is removed;
//   - any other type naming zod (a parameter of an internal helper) becomes its resolved
//     type, or `unknown` where it only exists as a zod type (a generic schema parameter);
//   - `import type X from "node:..."` becomes `import type * as X` (a default import of a
//     CommonJS module needs `esModuleInterop`, which that tsconfig does not set).
//
// Then every declaration file is type-checked again; a leftover reference fails the build.
//
//   node scripts/flatten-dts.mjs [dist]
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = resolve(root, process.argv[2] ?? "dist");

function declarationFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...declarationFiles(p));
    else if (entry.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

const options = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ["node"],
};

const isZodFile = (fileName) => /[\\/]node_modules[\\/]zod[\\/]/.test(fileName);
const isLibFile = (fileName) => /[\\/]typescript[\\/]lib[\\/]lib\..*\.d\.ts$/.test(fileName);

export function flatten(distDir = dist) {
  const files = declarationFiles(distDir);
  const program = ts.createProgram(files, options);
  const checker = program.getTypeChecker();
  let changed = 0;

  const declaredIn = (symbol) => (symbol?.declarations ?? []).map((d) => d.getSourceFile().fileName);
  const importedFromZod = (symbol) =>
    (symbol.declarations ?? []).some((d) => {
      let n = d;
      while (n && !ts.isImportDeclaration(n)) n = n.parent;
      return !!n && ts.isStringLiteral(n.moduleSpecifier) && /^zod(\/|$)/.test(n.moduleSpecifier.text);
    });
  const symbolIsZod = (symbol) => {
    if (!symbol) return false;
    if (importedFromZod(symbol)) return true;
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    return declaredIn(target).some(isZodFile);
  };
  const typeIsZod = (type) => symbolIsZod(type.aliasSymbol) || symbolIsZod(type.getSymbol());

  /** Does this node name zod, directly or through `typeof aZodSchema`? */
  function mentionsZod(node) {
    let found = false;
    const visit = (n) => {
      if (found) return;
      if (ts.isIdentifier(n) && symbolIsZod(checker.getSymbolAtLocation(n))) found = true;
      else if (ts.isTypeQueryNode(n) && typeIsZod(checker.getTypeAtLocation(n))) found = true;
      else ts.forEachChild(n, visit);
    };
    visit(node);
    return found;
  }

  const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  const pad = (depth) => "    ".repeat(depth);

  /** Prints a resolved type as plain TypeScript, or undefined if it cannot be written without zod. */
  function print(type, ctx, depth, seen) {
    const f = type.flags;
    if (f & ts.TypeFlags.Any) return "any";
    if (f & ts.TypeFlags.Unknown) return "unknown";
    if (f & ts.TypeFlags.Never) return "never";
    if (f & ts.TypeFlags.Void) return "void";
    if (f & ts.TypeFlags.Undefined) return "undefined";
    if (f & ts.TypeFlags.Null) return "null";
    if (f & ts.TypeFlags.String) return "string";
    if (f & ts.TypeFlags.Number) return "number";
    if (f & ts.TypeFlags.BigInt) return "bigint";
    if (f & ts.TypeFlags.ESSymbol) return "symbol";
    if (f & ts.TypeFlags.Boolean) return "boolean";
    if (f & ts.TypeFlags.BooleanLiteral) return checker.typeToString(type);
    if (f & ts.TypeFlags.StringLiteral) return JSON.stringify(type.value);
    if (f & ts.TypeFlags.NumberLiteral) return String(type.value);
    if (f & ts.TypeFlags.BigIntLiteral) return `${type.value.negative ? "-" : ""}${type.value.base10Value}n`;
    if (f & ts.TypeFlags.TypeParameter) return undefined; // a generic that only exists as a zod type
    if (f & ts.TypeFlags.NonPrimitive) return "object";
    if (seen.has(type) || depth > 12) return undefined;
    seen = new Set(seen).add(type);

    if (type.isUnion()) {
      const members = type.types;
      const hasTrue = members.some((t) => t.flags & ts.TypeFlags.BooleanLiteral && checker.typeToString(t) === "true");
      const hasFalse = members.some((t) => t.flags & ts.TypeFlags.BooleanLiteral && checker.typeToString(t) === "false");
      const parts = [];
      let booleanDone = false;
      const nullish = (t) => (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null) ? 1 : 0);
      for (const t of [...members].sort((a, b) => nullish(a) - nullish(b))) {
        if (hasTrue && hasFalse && t.flags & ts.TypeFlags.BooleanLiteral) {
          if (!booleanDone) parts.push("boolean");
          booleanDone = true;
          continue;
        }
        const p = print(t, ctx, depth, seen);
        if (p === undefined) return undefined;
        parts.push(needsParens(t) ? `(${p})` : p);
      }
      return parts.join(" | ");
    }
    const named = namedReference(type, ctx);
    if (named) return named;
    if (checker.isArrayType(type)) {
      const [elem] = checker.getTypeArguments(type);
      const p = print(elem, ctx, depth, seen);
      if (p === undefined) return undefined;
      const readonly = type.getSymbol()?.getName() === "ReadonlyArray" ? "readonly " : "";
      return `${readonly}${needsParens(elem, true) ? `(${p})` : p}[]`;
    }
    if (checker.isTupleType(type)) {
      const target = type.target;
      const args = checker.getTypeArguments(type);
      const parts = [];
      for (let i = 0; i < args.length; i++) {
        const p = print(args[i], ctx, depth, seen);
        if (p === undefined) return undefined;
        const flag = target.elementFlags[i];
        if (flag & ts.ElementFlags.Rest) parts.push(`...${needsParens(args[i], true) ? `(${p})` : p}[]`);
        else if (flag & ts.ElementFlags.Optional) parts.push(`${p}?`);
        else parts.push(p);
      }
      return `${target.readonly ? "readonly " : ""}[${parts.join(", ")}]`;
    }
    if (type.isIntersection() && !type.types.every((t) => t.flags & ts.TypeFlags.Object)) {
      const parts = type.types.map((t) => print(t, ctx, depth, seen));
      return parts.includes(undefined) ? undefined : parts.join(" & ");
    }
    if (f & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) return printObject(type, ctx, depth, seen);
    return undefined;
  }

  function needsParens(type, inArray = false) {
    if (type.isUnion() && !(type.flags & ts.TypeFlags.Boolean)) return true;
    if (type.flags & ts.TypeFlags.Boolean) return inArray;
    if (type.isIntersection()) return true;
    return inArray && type.getCallSignatures().length > 0;
  }

  /** A named type that is not zod's (RegExp, or an interface of the same file) keeps its name. */
  function namedReference(type, ctx) {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (!symbol || symbolIsZod(symbol)) return undefined;
    const name = symbol.getName();
    if (!IDENT.test(name) || name === "__type" || name === "__object") return undefined;
    const files = declaredIn(symbol);
    if (files.some(isZodFile)) return undefined;
    const local = files.includes(ctx.fileName);
    if (!local && !files.some(isLibFile)) return undefined;
    if (name === "Array" || name === "ReadonlyArray") return undefined;
    if (type.aliasSymbol && type.aliasTypeArguments?.length) return undefined;
    if (!type.aliasSymbol && type.flags & ts.TypeFlags.Object && type.objectFlags & ts.ObjectFlags.Reference && checker.getTypeArguments(type).length) {
      return undefined;
    }
    return name;
  }

  function printObject(type, ctx, depth, seen) {
    const lines = [];
    for (const sig of type.getCallSignatures()) {
      const s = printSignature(sig, ctx, depth + 1, seen);
      if (s === undefined) return undefined;
      lines.push(`${s.params}: ${s.ret};`);
    }
    for (const info of checker.getIndexInfosOfType(type)) {
      const k = print(info.keyType, ctx, depth + 1, seen);
      const v = print(info.type, ctx, depth + 1, seen);
      if (k === undefined || v === undefined) return undefined;
      lines.push(`${info.isReadonly ? "readonly " : ""}[key: ${k}]: ${v};`);
    }
    for (const prop of checker.getPropertiesOfType(type)) {
      const name = prop.getName();
      if (name.startsWith("__@")) return undefined; // a symbol-keyed (branded) member
      const optional = prop.flags & ts.SymbolFlags.Optional ? "?" : "";
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      const readonly = decl && ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Readonly ? "readonly " : "";
      let propType = checker.getTypeOfSymbol(prop);
      const p = print(propType, ctx, depth + 1, seen);
      if (p === undefined) return undefined;
      lines.push(`${readonly}${IDENT.test(name) ? name : JSON.stringify(name)}${optional}: ${p};`);
    }
    if (lines.length === 0) return "{}";
    return `{\n${lines.map((l) => pad(depth + 1) + l).join("\n")}\n${pad(depth)}}`;
  }

  function printSignature(sig, ctx, depth, seen) {
    if (sig.getTypeParameters()?.length) return undefined;
    const params = [];
    for (const p of sig.getParameters()) {
      const t = print(checker.getTypeOfSymbol(p), ctx, depth, seen);
      if (t === undefined) return undefined;
      params.push(`${p.getName()}: ${t}`);
    }
    const ret = print(sig.getReturnType(), ctx, depth, seen);
    return ret === undefined ? undefined : { params: `(${params.join(", ")})`, ret };
  }

  const resolved = (node, ctx, depth) => print(checker.getTypeFromTypeNode(node), ctx, depth, new Set());

  // Schema values are removed; imports of them elsewhere must go too.
  const isSchemaStatement = (stmt) =>
    ts.isVariableStatement(stmt) && stmt.declarationList.declarations.some((d) => d.type && mentionsZod(d.type));
  const removed = new Map();
  for (const file of files) {
    const names = new Set();
    for (const stmt of program.getSourceFile(file)?.statements ?? []) {
      if (isSchemaStatement(stmt)) for (const d of stmt.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
    }
    removed.set(resolve(file), names);
  }
  const removedFrom = (file, spec) => {
    if (!spec.startsWith(".")) return new Set();
    const base = resolve(dirname(file), spec);
    return removed.get(`${base}.d.ts`) ?? removed.get(join(base, "index.d.ts")) ?? new Set();
  };

  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf) continue;
    const text = sf.getFullText();
    const edits = [];
    const builtins = new Set(builtinModules);
    const ctx = { fileName: sf.fileName };

    /** Replaces, inside `node`, each outermost type naming zod by its resolved form. */
    const replaceTypesIn = (node, depth) => {
      const visit = (n) => {
        if (ts.isTypeNode(n) && mentionsZod(n)) {
          const printed = resolved(n, ctx, depth) ?? "unknown";
          edits.push({ start: n.getStart(sf), end: n.getEnd(), text: printed });
          return;
        }
        ts.forEachChild(n, visit);
      };
      visit(node);
    };

    for (const stmt of sf.statements) {
      if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier)) {
        const spec = stmt.moduleSpecifier.text;
        if (spec === "zod" || spec.startsWith("zod/")) {
          edits.push({ start: stmt.getFullStart(), end: stmt.getEnd(), text: "" });
          continue;
        }
        const clause = stmt.importClause;
        const gone = removedFrom(file, spec);
        if (clause?.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.some((e) => gone.has((e.propertyName ?? e.name).text))) {
          const kept = clause.namedBindings.elements.filter((e) => !gone.has((e.propertyName ?? e.name).text));
          const head = clause.isTypeOnly ? "import type" : "import";
          const def = clause.name ? `${clause.name.text}${kept.length ? ", " : ""}` : "";
          const named = kept.length ? `{ ${kept.map((e) => e.getText(sf)).join(", ")} }` : "";
          edits.push({
            start: def || named ? stmt.getStart(sf) : stmt.getFullStart(),
            end: stmt.getEnd(),
            text: def || named ? `${head} ${def}${named} from ${JSON.stringify(spec)};` : "",
          });
          continue;
        }
        const builtin = spec.startsWith("node:") || builtins.has(spec);
        if (builtin && clause?.name && !clause.namedBindings) {
          edits.push({
            start: stmt.getStart(sf),
            end: stmt.getEnd(),
            text: `import type * as ${clause.name.text} from ${JSON.stringify(spec)};`,
          });
        }
        continue;
      }
      if (ts.isTypeAliasDeclaration(stmt) && mentionsZod(stmt.type)) {
        if (stmt.typeParameters?.length) replaceTypesIn(stmt.type, 0);
        else {
          const printed = resolved(stmt.type, ctx, 0);
          if (printed === undefined) throw new Error(`${file}: cannot print type ${stmt.name.text} without zod`);
          edits.push({ start: stmt.type.getStart(sf), end: stmt.type.getEnd(), text: printed });
        }
        continue;
      }
      if (ts.isExportDeclaration(stmt) && stmt.moduleSpecifier && ts.isStringLiteral(stmt.moduleSpecifier) && stmt.exportClause && ts.isNamedExports(stmt.exportClause)) {
        const gone = removedFrom(file, stmt.moduleSpecifier.text);
        if (stmt.exportClause.elements.some((e) => gone.has((e.propertyName ?? e.name).text))) {
          throw new Error(`${file} re-exports a zod schema; the public API must not expose one`);
        }
      }
      if (isSchemaStatement(stmt)) {
        edits.push({ start: stmt.getFullStart(), end: stmt.getEnd(), text: "" });
        continue;
      }
      if (mentionsZod(stmt)) replaceTypesIn(stmt, 1);
    }

    if (edits.length === 0) continue;
    edits.sort((a, b) => b.start - a.start);
    let out = text;
    for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
    writeFileSync(file, out);
    changed++;
  }
  return { files, changed };
}

/** Type-checks the declaration files themselves; returns the diagnostics as text. */
export function checkDeclarations(files) {
  // As a user's program sees them (the tsconfig `pulumi new typescript` writes).
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    noEmit: true,
    types: ["node"],
  });
  const problems = [];
  for (const file of files) {
    const sf = program.getSourceFile(file);
    const text = readFileSync(file, "utf8");
    if (/from\s+["']zod(\/[^"']*)?["']|import\(["']zod/.test(text)) problems.push(`${file}: still imports zod`);
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      problems.push(ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" }).trim());
    }
  }
  return problems;
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const { files, changed } = flatten();
  const problems = checkDeclarations(files);
  if (problems.length) {
    process.stderr.write(`flatten-dts: the flattened declarations do not type-check:\n${problems.join("\n")}\n`);
    process.exit(1);
  }
  process.stderr.write(`flatten-dts: ${changed} of ${files.length} declaration files rewritten without zod\n`);
}

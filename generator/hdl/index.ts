// The hardware-construction library's public surface.
export { UInt, SInt, Bool, Value, lit, cat, mux, priority, select, shapeText, widthFor, type Shape, type ValueLike } from './value.ts';
export { Signal, ModuleIR, Memory, moduleTree, type Domain, type Stmt, type Params } from './ir.ts';
export {
  ModuleBuilder,
  MemoryHandle,
  defineModule,
  defineBlackBox,
  moduleName,
  type Elaborated,
  type ModuleFamily,
  type RegOptions,
  type InstanceIO,
} from './module.ts';
export { HdlError, HdlErrors, formatLoc, formatWarning, type SourceLoc, type HdlWarning } from './source.ts';
export { moduleWarnings } from './checks.ts';
export { emitModule, type EmitOptions } from './emit-verilog.ts';
export { emitDesign, writeDesign, designOutputs, portTypes, sha256, GENERATOR_VERSION, type Manifest, type EmittedDesign } from './design.ts';
export { Interpreter } from './interp.ts';
export * from './bundle.ts';
export { hdlEnum, HdlEnum, enumOf, type Enum, type EnumOptions } from './enum.ts';

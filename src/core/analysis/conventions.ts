// Analysis conventions (SPEC §3). Defaults describe how an interpreter such as TFLM runs the file as it is.

export interface Conventions {
  /** Every activation element counts 1 byte (emulates int8 deployment of a float model, as the MCUNetV2 paper). */
  asInt8: boolean;
  /** The graph input counts in the live set (default). The paper's patch-based figures leave it out. */
  countInput: boolean;
  /** Depthwise convolutions (depth multiplier 1, input not read later) write into their input's buffer (TinyEngine). */
  inplaceDepthwise: boolean;
  /** Explicit Pad operators feeding a conv or pool are fused into it (TinyEngine). */
  fusePad: boolean;
  /** A residual Add is fused into the conv producing one operand, writing in place into the skip tensor's buffer. */
  fuseAdd: boolean;
  /** Activation functions (and the SiLU / HardSwish two-op patterns) fused into their producer (default). */
  fuseActivations: boolean;
  /** Also search a better operator order for branched graphs, reported as a separate figure. */
  reorder: boolean;
}

export const DEFAULT_CONVENTIONS: Readonly<Conventions> = {
  asInt8: false,
  countInput: true,
  inplaceDepthwise: false,
  fusePad: false,
  fuseAdd: false,
  fuseActivations: true,
  reorder: false,
};

/** Arena alignment, as TFLM's allocator (kBufferAlignment). */
export const ARENA_ALIGNMENT = 16;

/** One line per convention, printed in every report. */
export function describeConventions(c: Conventions): string[] {
  return [
    'operator order: as stored in the file',
    c.fuseActivations ? 'activations (incl. SiLU/HardSwish patterns): fused into their producer' : 'activations: separate operators (--no-fuse-act)',
    c.asInt8 ? 'element size: 1 byte for every activation and weight (--as-int8)' : 'element size: each tensor\'s own dtype',
    c.countInput ? 'graph input: counted' : 'graph input: not counted (--no-input)',
    c.inplaceDepthwise ? 'depthwise conv: in place (--inplace-dw)' : 'depthwise conv: not in place',
    c.fusePad ? 'Pad: fused into the next conv/pool (--fuse-pad)' : 'Pad: kept as an operator',
    c.fuseAdd ? 'residual Add: fused into the producing conv, in place into the skip buffer (--fuse-add)' : 'residual Add: separate operator',
    'QDQ pairs (ONNX): folded, activations stored as int8',
    `arena: ${ARENA_ALIGNMENT}-byte aligned buffers; 1 KiB = 1024 B`,
  ];
}

// The C lowering of each operator kind: one family function per kind (the op table of the code generator). Adding an
// operator to the export adds its kind here and its lowering to its family's module.
import type { OpKind } from '../../graph';
import type { Emit, StepLower } from './context';
import { lowerBatchNorm, lowerConv } from './conv';
import { lowerCast, lowerConcat, lowerCopies, lowerPad, lowerReshape, lowerResize, lowerSplit, lowerTranspose } from './data';
import { lowerClassifier, lowerDense } from './dense';
import { lowerActivation, lowerBinary, lowerDequantize, lowerElementwise, lowerQuantize, lowerSoftmax } from './elementwise';
import { lowerArgReduce, lowerPool, lowerReduce } from './pool';
import { lowerRecurrent } from './recurrent';

export const LOWERERS: Readonly<Partial<Record<OpKind, (s: StepLower) => Emit>>> = {
  Conv2D: lowerConv, DepthwiseConv2D: lowerConv, ConvNd: lowerConv, TransposeConv2D: lowerConv, BatchNorm: lowerBatchNorm,
  MaxPool2D: lowerPool, AvgPool2D: lowerPool, PoolNd: lowerPool, GlobalAvgPool: lowerPool, GlobalMaxPool: lowerPool, Reduce: lowerReduce, ArgReduce: lowerArgReduce,
  FullyConnected: lowerDense, MatMul: lowerDense, Recurrent: lowerRecurrent, Classifier: lowerClassifier,
  Add: lowerBinary, Sub: lowerBinary, Mul: lowerBinary, Div: lowerBinary, Max: lowerBinary, Min: lowerBinary, Pow: lowerBinary,
  Elementwise: lowerElementwise, Activation: lowerActivation, Softmax: lowerSoftmax, Quantize: lowerQuantize, Dequantize: lowerDequantize,
  Split: lowerSplit, Unpack: lowerSplit, Concat: lowerConcat, Pad: lowerPad, Resize: lowerResize, Transpose: lowerTranspose,
  Reshape: lowerReshape, Flatten: lowerReshape, Squeeze: lowerReshape, Unsqueeze: lowerReshape, Identity: lowerReshape, Cast: lowerCast,
  Slice: lowerCopies, Gather: lowerCopies, Pack: lowerCopies, Tile: lowerCopies, Expand: lowerCopies, SpaceToDepth: lowerCopies, DepthToSpace: lowerCopies,
};

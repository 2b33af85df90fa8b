// TFLM runner for MCU Memory Inspector's tests: loads a .tflite file with TFLM's own interpreter and prints what
// TFLM allocates. Output, one fact per line:
//   arena_used_bytes N     MicroInterpreter::arena_used_bytes() after AllocateTensors() (plain interpreter)
//   head N / tail N        the planned (non-persistent) and persistent sections, from the recording allocator
//   recorded KIND requested used count   the recording allocator's tail breakdown by kind
//   min_arena_bytes N      the smallest arena (16-byte aligned) for which AllocateTensors() succeeds (--min)
//   invoke ok              Invoke() succeeded on the inputs given with --input FILE (raw bytes of each input, in order); --invokes N
//                          runs it N times first (state carried from run to run)
//   (--log) alloc PHASE OP SIZE ALIGN TAIL   every allocation in the arena's tail, in order: the phase (setup, parse,
//                          init, prepare, plan, io), the operator (-1 outside operators), the size and alignment asked
//                          for, and the tail's size after it
//   (--log) scratch OP SIZE  a kernel's scratch buffer request (planned in the head)
//   (--arena N) arena N: ok|failed   AllocateTensors() in an arena of exactly N bytes, with TFLM's messages
//   output I N             then N raw bytes of output I in hex on the next line
//   (--dump FILE)          instead of the hex lines, the raw bytes of every output, one after another, into FILE (the
//                          tests list every tensor as an output to see each operator's result)
// Errors: "error: ..." on stdout and exit status 1.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <utility>

#include "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.h"
#include "tensorflow/lite/micro/memory_planner/greedy_memory_planner.h"
#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/recording_micro_interpreter.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

using Resolver = tflite::MicroMutableOpResolver<128>;

void AddAll(Resolver& r) {
  r.AddAbs(); r.AddAdd(); r.AddAddN(); r.AddArgMax(); r.AddArgMin(); r.AddAssignVariable(); r.AddAveragePool2D();
  r.AddBatchMatMul(); r.AddBatchToSpaceNd(); r.AddBroadcastArgs(); r.AddBroadcastTo(); r.AddCallOnce(); r.AddCast();
  r.AddCeil(); r.AddCircularBuffer(); r.AddConcatenation(); r.AddConv2D(); r.AddCos(); r.AddCumSum();
  r.AddDepthToSpace(); r.AddDepthwiseConv2D(); r.AddDequantize(); r.AddDetectionPostprocess(); r.AddDiv();
  r.AddDynamicUpdateSlice(); r.AddEmbeddingLookup(); r.AddElu(); r.AddEqual(); r.AddExp(); r.AddExpandDims();
  r.AddFill(); r.AddFloor(); r.AddFloorDiv(); r.AddFloorMod(); r.AddFullyConnected(); r.AddGather(); r.AddGatherNd();
  r.AddGreater(); r.AddGreaterEqual(); r.AddHardSwish(); r.AddIf(); r.AddL2Normalization(); r.AddL2Pool2D();
  r.AddLeakyRelu(); r.AddLess(); r.AddLessEqual(); r.AddLog(); r.AddLogicalAnd(); r.AddLogicalNot(); r.AddLogicalOr();
  r.AddLogistic(); r.AddLogSoftmax(); r.AddMaximum(); r.AddMaxPool2D(); r.AddMirrorPad(); r.AddMean(); r.AddMinimum();
  r.AddMul(); r.AddNeg(); r.AddNotEqual(); r.AddPack(); r.AddPad(); r.AddPadV2(); r.AddPrelu(); r.AddQuantize();
  r.AddReadVariable(); r.AddReduceAll(); r.AddReduceMax(); r.AddReduceMin(); r.AddRelu(); r.AddRelu6(); r.AddReshape();
  r.AddResizeBilinear(); r.AddResizeNearestNeighbor(); r.AddReverseV2(); r.AddRound(); r.AddRsqrt(); r.AddSelectV2();
  r.AddShape(); r.AddSin(); r.AddSlice(); r.AddSoftmax(); r.AddSpaceToBatchNd(); r.AddSpaceToDepth(); r.AddSplit();
  r.AddSplitV(); r.AddSqueeze(); r.AddSqrt(); r.AddSquare(); r.AddSquaredDifference(); r.AddStridedSlice(); r.AddSub();
  r.AddSum(); r.AddSvdf(); r.AddTanh(); r.AddTransposeConv(); r.AddTranspose(); r.AddUnpack();
  r.AddUnidirectionalSequenceLSTM(); r.AddVarHandle(); r.AddWhile(); r.AddZerosLike();
}

// ---- Allocation log (--log): every tail allocation and scratch request, tagged with the phase and the operator.
const char* g_phase = "setup";
int g_op = -1;
int g_parse_count = 0, g_init_count = 0, g_prepare_count = 0;

// Same size as SingleArenaBufferAllocator (no fields of its own), so the arena holds the same bytes.
class LoggingAllocator : public tflite::SingleArenaBufferAllocator {
 public:
  using SingleArenaBufferAllocator::SingleArenaBufferAllocator;
  uint8_t* AllocatePersistentBuffer(size_t size, size_t alignment) override {
    uint8_t* p = SingleArenaBufferAllocator::AllocatePersistentBuffer(size, alignment);
    std::printf("alloc %s %d %zu %zu %zu\n", g_phase, g_op, size, alignment, GetPersistentUsedBytes());
    return p;
  }
};
static_assert(sizeof(LoggingAllocator) == sizeof(tflite::SingleArenaBufferAllocator), "same footprint");

constexpr size_t kSlots = 64;
struct Slot {
  int op = -1;
  const TFLMRegistration* orig = nullptr;
  TFLMRegistration wrapped = {};
  tflite::TfLiteBridgeBuiltinParseFunction parser = nullptr;
};
std::array<Slot, kSlots> g_slots;
TfLiteStatus (*g_request_scratch)(TfLiteContext*, size_t, int*) = nullptr;

TfLiteStatus LogScratch(TfLiteContext* ctx, size_t bytes, int* index) {
  std::printf("scratch %d %zu\n", g_op, bytes);
  return g_request_scratch(ctx, bytes, index);
}

template <size_t K>
TfLiteStatus ParseT(const tflite::Operator* op, tflite::ErrorReporter* er, tflite::BuiltinDataAllocator* a, void** out) {
  g_phase = "parse";
  g_op = g_parse_count++;
  TfLiteStatus s = g_slots[K].parser(op, er, a, out);
  g_phase = "setup";
  g_op = -1;
  return s;
}
template <size_t K>
void* InitT(TfLiteContext* c, const char* b, size_t n) {
  g_phase = "init";
  g_op = g_init_count++;
  void* r = g_slots[K].orig->init ? g_slots[K].orig->init(c, b, n) : nullptr;
  g_phase = "setup";
  g_op = -1;
  return r;
}
template <size_t K>
TfLiteStatus PrepareT(TfLiteContext* c, TfLiteNode* node) {
  g_phase = "prepare";
  g_op = g_prepare_count++;
  g_request_scratch = c->RequestScratchBufferInArena;
  c->RequestScratchBufferInArena = LogScratch;
  TfLiteStatus s = g_slots[K].orig->prepare ? g_slots[K].orig->prepare(c, node) : kTfLiteOk;
  c->RequestScratchBufferInArena = g_request_scratch;
  g_phase = "plan";
  g_op = -1;
  return s;
}
template <size_t... I>
constexpr auto ParseTable(std::index_sequence<I...>) { return std::array<tflite::TfLiteBridgeBuiltinParseFunction, sizeof...(I)>{&ParseT<I>...}; }
template <size_t... I>
constexpr auto InitTable(std::index_sequence<I...>) { return std::array<void* (*)(TfLiteContext*, const char*, size_t), sizeof...(I)>{&InitT<I>...}; }
template <size_t... I>
constexpr auto PrepareTable(std::index_sequence<I...>) { return std::array<TfLiteStatus (*)(TfLiteContext*, TfLiteNode*), sizeof...(I)>{&PrepareT<I>...}; }
const auto kParse = ParseTable(std::make_index_sequence<kSlots>());
const auto kInit = InitTable(std::make_index_sequence<kSlots>());
const auto kPrepare = PrepareTable(std::make_index_sequence<kSlots>());

// Resolves through the full resolver, handing out registrations and parsers that log which operator they serve.
class LoggingResolver : public tflite::MicroOpResolver {
 public:
  explicit LoggingResolver(const tflite::MicroOpResolver& inner) : inner_(inner) {}
  const TFLMRegistration* FindOp(tflite::BuiltinOperator op) const override {
    Slot* s = SlotFor(op);
    if (!s) return nullptr;
    if (!s->orig) {
      s->orig = inner_.FindOp(op);
      if (!s->orig) return nullptr;
      s->wrapped = *s->orig;
      s->wrapped.init = kInit[s - g_slots.data()];
      s->wrapped.prepare = kPrepare[s - g_slots.data()];
    }
    return &s->wrapped;
  }
  const TFLMRegistration* FindOp(const char* op) const override { return inner_.FindOp(op); }
  tflite::TfLiteBridgeBuiltinParseFunction GetOpDataParser(tflite::BuiltinOperator op) const override {
    Slot* s = SlotFor(op);
    if (!s) return nullptr;
    s->parser = inner_.GetOpDataParser(op);
    return s->parser ? kParse[s - g_slots.data()] : nullptr;
  }

 private:
  static Slot* SlotFor(int op) {
    for (Slot& s : g_slots) {
      if (s.op == op) return &s;
      if (s.op == -1) { s.op = op; return &s; }
    }
    return nullptr;
  }
  const tflite::MicroOpResolver& inner_;
};

// 16-byte aligned heap block (the arena and the model both need it).
uint8_t* Aligned(size_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, 16, n == 0 ? 16 : n) != 0) return nullptr;
  std::memset(p, 0, n);
  return static_cast<uint8_t*>(p);
}

// Whether AllocateTensors() succeeds in an arena of `size` bytes. Run in a child process: with some models (variable
// tensors) TFLM crashes instead of failing when the arena is too small, and a crash counts as a failure.
bool Allocates(const tflite::Model* model, const Resolver& resolver, size_t size) {
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    uint8_t* arena = Aligned(size);
    tflite::MicroInterpreter interpreter(model, resolver, arena, size);
    _exit(interpreter.AllocateTensors() == kTfLiteOk ? 0 : 1);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) { std::printf("error: usage: tflm-runner MODEL.tflite [--min] [--log] [--arena N] [--input FILE [--invokes N] [--dump FILE]]\n"); return 1; }
  bool want_min = false;
  bool want_log = false;
  long try_arena = -1;
  const char* input_file = nullptr;
  const char* dump_file = nullptr;
  long invokes = 1;
  for (int i = 2; i < argc; i++) {
    if (std::strcmp(argv[i], "--min") == 0) want_min = true;
    else if (std::strcmp(argv[i], "--log") == 0) want_log = true;
    else if (std::strcmp(argv[i], "--arena") == 0 && i + 1 < argc) try_arena = std::atol(argv[++i]);
    else if (std::strcmp(argv[i], "--input") == 0 && i + 1 < argc) input_file = argv[++i];
    else if (std::strcmp(argv[i], "--dump") == 0 && i + 1 < argc) dump_file = argv[++i];
    else if (std::strcmp(argv[i], "--invokes") == 0 && i + 1 < argc) invokes = std::atol(argv[++i]);
  }
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  tflite::InitializeTarget();
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) { std::printf("error: cannot open %s\n", argv[1]); return 1; }
  std::fseek(f, 0, SEEK_END);
  long n = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  uint8_t* data = Aligned(static_cast<size_t>(n));
  if (!data || std::fread(data, 1, static_cast<size_t>(n), f) != static_cast<size_t>(n)) { std::printf("error: cannot read %s\n", argv[1]); return 1; }
  std::fclose(f);
  const tflite::Model* model = tflite::GetModel(data);
  static Resolver resolver;
  AddAll(resolver);

  if (try_arena >= 0) {
    // Diagnostics: AllocateTensors() in an arena of exactly this size, with TFLM's messages.
    static Resolver r;
    AddAll(r);
    uint8_t* a = Aligned(static_cast<size_t>(try_arena));
    tflite::MicroInterpreter interpreter(model, r, a, static_cast<size_t>(try_arena));
    std::printf("arena %ld: %s\n", try_arena, interpreter.AllocateTensors() == kTfLiteOk ? "ok" : "failed");
    return 0;
  }

  const size_t kBig = 64u << 20;
  uint8_t* arena = Aligned(kBig);
  tflite::MicroInterpreter interpreter(model, resolver, arena, kBig);
  if (interpreter.AllocateTensors() != kTfLiteOk) { std::printf("error: AllocateTensors failed\n"); return 1; }
  const size_t used = interpreter.arena_used_bytes();
  std::printf("arena_used_bytes %zu\n", used);

  uint8_t* rarena = Aligned(kBig);
  {
    tflite::RecordingMicroInterpreter rec(model, resolver, rarena, kBig);
    if (rec.AllocateTensors() == kTfLiteOk) {
      const auto& a = rec.GetMicroAllocator();
      const auto* mem = a.GetSimpleMemoryAllocator();
      std::printf("head %zu\n", mem->GetNonPersistentUsedBytes());
      std::printf("tail %zu\n", mem->GetPersistentUsedBytes());
      std::printf("recording_default_tail %zu\n", tflite::RecordingMicroAllocator::GetDefaultTailUsage());
      std::printf("default_tail %zu\n", tflite::MicroAllocator::GetDefaultTailUsage(false));
      const char* names[] = {"eval_tensor_data", "persistent_tensor_data", "persistent_quantization_data", "persistent_buffer_data",
                             "variable_buffer_data", "node_and_registration", "op_data"};
      for (int k = 0; k < 7; k++) {
        auto r = a.GetRecordedAllocation(static_cast<tflite::RecordedAllocationType>(k));
        std::printf("recorded %s %zu %zu %zu\n", names[k], r.requested_bytes, r.used_bytes, r.count);
      }
    }
  }
  std::free(rarena);

  if (want_log) {
    // The default MicroAllocator::Create(arena, size) made by hand, with the logging allocator: the allocator object,
    // the greedy planner and the MicroAllocator in the tail, in that order.
    uint8_t* larena = Aligned(kBig);
    LoggingAllocator tmp(larena, kBig);
    auto* mem = new (tmp.AllocatePersistentBuffer(sizeof(LoggingAllocator), alignof(LoggingAllocator))) LoggingAllocator(tmp);
    auto* planner = new (mem->AllocatePersistentBuffer(sizeof(tflite::GreedyMemoryPlanner), alignof(tflite::GreedyMemoryPlanner))) tflite::GreedyMemoryPlanner();
    tflite::MicroAllocator* allocator = tflite::MicroAllocator::Create(mem, planner);
    static LoggingResolver logging(resolver);
    tflite::MicroInterpreter li(model, logging, allocator);
    if (li.AllocateTensors() != kTfLiteOk) { std::printf("error: AllocateTensors failed (logging)\n"); return 1; }
    std::printf("logged_arena_used_bytes %zu\n", li.arena_used_bytes());
  }

  if (want_min) {
    // AllocateTensors succeeds for every size from the minimum up: bisect on multiples of 16.
    size_t lo = 0, hi = (used + 15) / 16 + 1;  // lo fails (or is 0), hi succeeds, in units of 16 bytes
    while (!Allocates(model, resolver, hi * 16)) hi *= 2;
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (Allocates(model, resolver, mid * 16)) hi = mid; else lo = mid;
    }
    std::printf("min_arena_bytes %zu\n", hi * 16);
  }

  if (input_file) {
    // The raw bytes of every input, one after another (as the generated harness reads them).
    size_t total = 0;
    for (size_t i = 0; i < interpreter.inputs_size(); i++) total += interpreter.input(i)->bytes;
    std::vector<uint8_t> input(total);
    FILE* g = std::fopen(input_file, "rb");
    if (!g || std::fread(input.data(), 1, total, g) != total) { std::printf("error: the inputs need %zu bytes\n", total); return 1; }
    std::fclose(g);
    // --invokes N: N runs on the same input (a model with state, an LSTM's or SVDF's, carries it from run to run),
    // written again before each run: the planner may give the input's memory to a later tensor.
    for (long k = 0; k < invokes; k++) {
      for (size_t i = 0, at = 0; i < interpreter.inputs_size(); at += interpreter.input(i)->bytes, i++) {
        std::memcpy(interpreter.input(i)->data.raw, input.data() + at, interpreter.input(i)->bytes);
      }
      if (interpreter.Invoke() != kTfLiteOk) { std::printf("error: Invoke failed\n"); return 1; }
    }
    std::printf("invoke ok\n");
    if (dump_file) {
      FILE* d = std::fopen(dump_file, "wb");
      if (!d) { std::printf("error: cannot write %s\n", dump_file); return 1; }
      for (size_t o = 0; o < interpreter.outputs_size(); o++) {
        TfLiteTensor* out = interpreter.output(o);
        if (std::fwrite(out->data.raw, 1, out->bytes, d) != out->bytes) { std::printf("error: cannot write %s\n", dump_file); return 1; }
      }
      std::fclose(d);
      return 0;
    }
    for (size_t o = 0; o < interpreter.outputs_size(); o++) {
      TfLiteTensor* out = interpreter.output(o);
      std::printf("output %zu %zu\n", o, out->bytes);
      for (size_t i = 0; i < out->bytes; i++) std::printf("%02x", static_cast<unsigned char>(out->data.raw[i]));
      std::printf("\n");
    }
  }
  return 0;
}

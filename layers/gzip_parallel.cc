#include "layers/gzip_parallel.h"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>

#include "util/strings.h"

namespace kiln::layers::detail {

namespace {

struct DeflaterDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
using Deflater = std::unique_ptr<libdeflate_compressor, DeflaterDeleter>;

}  // namespace

struct ParallelGzip::Slot {
  enum class State { idle, queued, done };
  std::vector<uint8_t> input;
  std::vector<uint8_t> output;
  size_t output_size = 0;
  State state = State::idle;
};

// Compresses slot.input into slot.output as one gzip member. Returns false
// only if libdeflate's bound was wrong (a bug).
static bool compress_member(libdeflate_compressor* c, ParallelGzip::Slot& slot);

Result<std::unique_ptr<ParallelGzip>> ParallelGzip::create(int level, int threads, BlobSink& sink,
                                                           size_t chunk_size) {
  if (level < 1 || level > 12) {
    return Error(ErrorCode::invalid_input, cat("gzip level ", level, " is out of range 1..12"));
  }
  std::unique_ptr<ParallelGzip> gz(new ParallelGzip(level, sink, chunk_size));
  // Two slots per worker keep every worker busy while the writer drains the
  // oldest one; memory is bounded by slots * (chunk + bound).
  size_t slots = threads <= 1 ? 1 : static_cast<size_t>(threads) * 2 + 1;
  for (size_t i = 0; i < slots; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->input.reserve(chunk_size);
    gz->m_slots.push_back(std::move(slot));
  }
  if (threads <= 1) {
    gz->m_inline_compressor = libdeflate_alloc_compressor(level);
    if (gz->m_inline_compressor == nullptr) {
      return Error(ErrorCode::internal, "allocate a libdeflate compressor");
    }
  } else {
    for (int i = 0; i < threads; ++i) {
      gz->m_workers.emplace_back([g = gz.get()] { g->worker_main(); });
    }
  }
  return gz;
}

ParallelGzip::ParallelGzip(int level, BlobSink& sink, size_t chunk_size)
    : m_level(level), m_sink(sink), m_chunk_size(chunk_size) {}

ParallelGzip::~ParallelGzip() {
  stop_workers();
  if (m_inline_compressor != nullptr) {
    libdeflate_free_compressor(static_cast<libdeflate_compressor*>(m_inline_compressor));
  }
}

void ParallelGzip::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_work_cv.notify_all();
  for (auto& t : m_workers) {
    t.join();
  }
  m_workers.clear();
}

static bool compress_member(libdeflate_compressor* c, ParallelGzip::Slot& slot) {
  size_t bound = libdeflate_gzip_compress_bound(c, slot.input.size());
  if (slot.output.size() < bound) {
    slot.output.resize(bound);
  }
  slot.output_size =
      libdeflate_gzip_compress(c, slot.input.data(), slot.input.size(), slot.output.data(), slot.output.size());
  return slot.output_size != 0;
}

void ParallelGzip::worker_main() {
  Deflater deflater(libdeflate_alloc_compressor(m_level));
  for (;;) {
    Slot* slot = nullptr;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_work_cv.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty()) {
        return;
      }
      slot = m_queue.front();
      m_queue.erase(m_queue.begin());
    }
    bool ok = deflater != nullptr && compress_member(deflater.get(), *slot);
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (!ok) {
        slot->output_size = 0;
      }
      slot->state = Slot::State::done;
    }
    m_done_cv.notify_all();
  }
}

Result<void> ParallelGzip::retire(Slot& slot) {
  {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_done_cv.wait(lock, [&] { return slot.state == Slot::State::done; });
  }
  slot.state = Slot::State::idle;
  if (slot.output_size == 0) {
    return Error(ErrorCode::internal, "compress a gzip member with libdeflate");
  }
  KILN_TRY(m_sink.write(slot.output.data(), slot.output_size));
  slot.input.clear();
  return {};
}

Result<void> ParallelGzip::submit_current() {
  Slot& slot = *m_slots[m_next];
  if (m_inline_compressor != nullptr) {
    if (!compress_member(static_cast<libdeflate_compressor*>(m_inline_compressor), slot)) {
      return Error(ErrorCode::internal, "compress a gzip member with libdeflate");
    }
    KILN_TRY(m_sink.write(slot.output.data(), slot.output_size));
    slot.input.clear();
    return {};
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    slot.state = Slot::State::queued;
    m_queue.push_back(&slot);
  }
  m_work_cv.notify_one();
  m_next = (m_next + 1) % m_slots.size();
  // The next slot to fill is the oldest in flight: drain it first, in order.
  Slot& next = *m_slots[m_next];
  if (next.state != Slot::State::idle) {
    KILN_TRY(retire(next));
  }
  return {};
}

Result<void> ParallelGzip::write(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    Slot& slot = *m_slots[m_next];
    size_t n = std::min(size, m_chunk_size - slot.input.size());
    slot.input.insert(slot.input.end(), p, p + n);
    p += n;
    size -= n;
    if (slot.input.size() == m_chunk_size) {
      KILN_TRY(submit_current());
    }
  }
  return {};
}

Result<void> ParallelGzip::finish() {
  // An empty stream is still one (empty) member, so the output is valid gzip.
  Slot& last = *m_slots[m_next];
  bool wrote_any = m_sink.size() > 0 || std::any_of(m_slots.begin(), m_slots.end(), [](const auto& s) {
                     return s->state != Slot::State::idle;
                   });
  if (!last.input.empty() || !wrote_any) {
    KILN_TRY(submit_current());
  }
  for (size_t i = 0; i < m_slots.size(); ++i) {
    Slot& slot = *m_slots[(m_next + i) % m_slots.size()];
    if (slot.state != Slot::State::idle) {
      KILN_TRY(retire(slot));
    }
  }
  return {};
}

}  // namespace kiln::layers::detail

#include "solver/solve.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "util/atomic_file.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace kiln::solver {

CancelToken::CancelToken() : m_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void CancelToken::cancel() {
  if (!m_cancelled.exchange(true) && m_fd) {
    uint64_t one = 1;
    ssize_t ignored = ::write(m_fd.get(), &one, sizeof one);
    (void)ignored;
  }
}

namespace {

std::vector<bool> needed_ops(const Definition& def, const std::vector<int>& targets) {
  std::vector<bool> need(def.ops.size(), false);
  std::vector<int> stack(targets.begin(), targets.end());
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (i < 0 || static_cast<size_t>(i) >= def.ops.size() || need[static_cast<size_t>(i)]) {
      continue;
    }
    need[static_cast<size_t>(i)] = true;
    for (int in : def.ops[static_cast<size_t>(i)].inputs) {
      stack.push_back(in);
    }
  }
  return need;
}

bool is_cached_kind(const Op& op) {
  return std::holds_alternative<Exec>(op.attrs) || std::holds_alternative<Copy>(op.attrs) ||
         std::holds_alternative<Mkdir>(op.attrs);
}

Error wrap_op_error(const Op& op, Error err) {
  const OpOrigin& o = op.origin;
  std::string what = o.step > 0 ? cat("step ", o.step, "/", o.step_count, " ", o.description) : o.description;
  if (what.empty()) {
    what = cat(op_kind(op), " op");
  }
  err.wrap(what);
  if (!o.stage.empty()) {
    err.wrap(cat("building stage `", o.stage, "`"));
  }
  if (!o.file.empty() && o.line_begin > 0 && !err.source()) {
    err.with_source(SourceRange{o.file, o.line_begin, o.line_end, 0});
  }
  return err;
}

std::string explain_id(const SolveOptions& o, const Op& op) {
  return Hasher("kiln-explain-v1").field("identity", o.explain_identity).field("stage", op.origin.stage)
      .field("step", op.origin.step).finish_hex();
}

struct KeyState {
  std::vector<KeyParts> parts;
  std::vector<std::vector<std::string>> files;  // COPY content listings for explanations
};

Result<KeyState> keys_for(const Definition& def, const std::vector<bool>& need, OpRunner& runner, bool want_files) {
  KeyState st;
  st.parts.resize(def.ops.size());
  st.files.resize(def.ops.size());
  for (size_t i = 0; i < def.ops.size(); ++i) {
    if (!need[i]) {
      continue;
    }
    const Op& op = def.ops[i];
    KeyParts p = op_key_parts(op);
    const auto* copy = std::get_if<Copy>(&op.attrs);
    const auto* exec = std::get_if<Exec>(&op.attrs);
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      KeyInput in;
      in.key = st.parts[static_cast<size_t>(op.inputs[k])].key();
      if (copy != nullptr && k == 0 && copy->link) {
        in.key.clear();  // --link: the layer does not depend on the destination
      }
      if (copy != nullptr && k == 1) {
        in.selector = join(copy->sources, "\n");
        auto digest = runner.content_digest(def, static_cast<int>(i), want_files ? &st.files[i] : nullptr);
        if (!digest) {
          return wrap_op_error(op, std::move(digest).error());
        }
        in.content_digest = *digest;
      }
      if (exec != nullptr && k > 0) {
        for (const auto& m : exec->mounts) {
          if (m.from_input != static_cast<int>(k)) {
            continue;
          }
          in.selector = m.source;
          if (m.type == "bind") {
            auto digest = runner.mount_content_digest(def, static_cast<int>(i), static_cast<int>(k));
            if (!digest) {
              return wrap_op_error(op, std::move(digest).error());
            }
            in.content_digest = *digest;
          }
        }
      }
      p.inputs.push_back(std::move(in));
    }
    st.parts[i] = std::move(p);
  }
  return st;
}

std::vector<std::string> explain_miss(const SolveOptions& o, const Op& op, const KeyParts& now,
                                      const std::vector<std::string>& files) {
  std::string path = path_join(o.explain_dir, explain_id(o, op) + ".json");
  auto text = read_file_if_exists(path);
  if (!text || !*text) {
    return {"no earlier build of this step is recorded"};
  }
  auto j = oci::parse_json(**text, "explain record");
  if (!j) {
    return {"no earlier build of this step is recorded"};
  }
  auto before = key_parts_from_json((*j)["parts"]);
  if (!before) {
    return {"no earlier build of this step is recorded"};
  }
  if (before->key() == now.key()) {
    return {"the cache entry was removed or its content is missing"};
  }
  std::vector<std::string> out;
  std::map<std::string, std::string> old_files;
  for (const auto& f : (*j).value("files", oci::Json::array())) {
    auto kv = split_once(f.get<std::string>(), ' ');
    if (kv) {
      old_files[kv->first] = kv->second;
    }
  }
  bool file_detail = false;
  for (const auto& line : files) {
    auto kv = split_once(line, ' ');
    if (!kv) {
      continue;
    }
    auto it = old_files.find(kv->first);
    if (it == old_files.end()) {
      out.push_back(cat("COPY source `", kv->first, "` was added"));
      file_detail = true;
    } else if (it->second != kv->second) {
      out.push_back(cat("COPY source `", kv->first, "` content changed"));
      file_detail = true;
    }
    if (it != old_files.end()) {
      old_files.erase(it);
    }
  }
  for (const auto& [name, digest] : old_files) {
    if (!files.empty()) {
      out.push_back(cat("COPY source `", name, "` was removed"));
      file_detail = true;
    }
  }
  for (auto& reason : explain_key_change(*before, now)) {
    if (file_detail && reason.starts_with("source content changed")) {
      continue;
    }
    out.push_back(std::move(reason));
  }
  return out;
}

void record_explain(const SolveOptions& o, const Op& op, const KeyParts& parts, const std::vector<std::string>& files) {
  if (o.explain_dir.empty() || op.origin.step == 0) {
    return;
  }
  oci::Json j = {{"parts", key_parts_to_json(parts)}, {"files", files}};
  if (make_dirs(o.explain_dir)) {
    log_warning_and_drop(write_file_atomic(path_join(o.explain_dir, explain_id(o, op) + ".json"), oci::dump_json(j)));
  }
}

}  // namespace

oci::Json op_result_to_record(const OpResult& r) {
  oci::Json j = oci::Json::object();
  if (r.new_layer) {
    j["layer"] = {{"diff_id", r.new_layer->diff_id.str()},
                  {"digest", r.new_layer->digest.str()},
                  {"size", r.new_layer->size},
                  {"media_type", r.new_layer->media_type}};
  } else {
    j["layer"] = nullptr;
  }
  j["created"] = r.created;
  return j;
}

Result<OpResult> op_result_from_record(const cache::CacheRecord& rec, const OpResult* parent) {
  OpResult r;
  if (parent != nullptr) {
    r.layers = parent->layers;
  }
  const oci::Json& j = rec.result;
  if (!j.is_object()) {
    return Error(ErrorCode::cache_corrupt, "cache record has no result");
  }
  if (j.contains("layer") && j["layer"].is_object()) {
    const oci::Json& l = j["layer"];
    LayerRef ref;
    try {
      KILN_TRY_ASSIGN(ref.diff_id, oci::Digest::parse(l.at("diff_id").get<std::string>()));
      KILN_TRY_ASSIGN(ref.digest, oci::Digest::parse(l.at("digest").get<std::string>()));
      ref.size = l.at("size").get<int64_t>();
      ref.media_type = l.at("media_type").get<std::string>();
    } catch (const std::exception& e) {
      return Error(ErrorCode::cache_corrupt, cat("cache record `", rec.key, "`: ", e.what()));
    }
    r.layers.push_back(ref);
    r.new_layer = ref;
  }
  r.created = j.value("created", "");
  r.cached = true;
  r.key = rec.key;
  return r;
}

Result<std::vector<KeyParts>> compute_keys(const Definition& def, const std::vector<int>& targets, OpRunner& runner) {
  KILN_TRY(validate_definition(def));
  KILN_TRY_ASSIGN(KeyState st, keys_for(def, needed_ops(def, targets), runner, false));
  return st.parts;
}

namespace {

class Scheduler {
 public:
  Scheduler(const Definition& def, OpRunner& runner, const SolveOptions& o, std::vector<bool> need, KeyState keys)
      : m_def(def), m_runner(runner), m_o(o), m_need(std::move(need)), m_keys(std::move(keys)) {
    m_results.resize(def.ops.size());
    m_done.assign(def.ops.size(), false);
    m_started.assign(def.ops.size(), false);
  }

  Result<SolveResult> run() {
    std::unique_lock<std::mutex> lock(m_mutex);
    while (true) {
      if (!m_error) {
        start_ready(lock);
      }
      if (m_running == 0 && (m_error || all_done())) {
        break;
      }
      m_cv.wait(lock);
    }
    for (auto& t : m_threads) {
      t.join();
    }
    if (m_error) {
      return std::move(*m_error);
    }
    SolveResult out;
    for (size_t i = 0; i < m_def.ops.size(); ++i) {
      out.keys.push_back(m_need[i] ? m_keys.parts[i].key() : "");
    }
    out.results = std::move(m_results);
    return out;
  }

 private:
  bool all_done() const {
    for (size_t i = 0; i < m_def.ops.size(); ++i) {
      if (m_need[i] && !m_done[i]) {
        return false;
      }
    }
    return true;
  }

  bool inputs_done(size_t i) const {
    return std::all_of(m_def.ops[i].inputs.begin(), m_def.ops[i].inputs.end(),
                       [&](int in) { return m_done[static_cast<size_t>(in)]; });
  }

  void emit(SolveEvent ev) {
    if (m_o.on_event) {
      std::lock_guard<std::mutex> lock(m_event_mutex);
      m_o.on_event(ev);
    }
  }

  // Resolves cache hits inline; starts misses on threads while slots remain.
  void start_ready(std::unique_lock<std::mutex>& lock) {
    bool progress = true;
    while (progress && !m_error) {
      progress = false;
      for (size_t i = 0; i < m_def.ops.size() && !m_error; ++i) {
        if (!m_need[i] || m_started[i] || !inputs_done(i)) {
          continue;
        }
        if (try_hit(i)) {
          progress = true;
          continue;
        }
        if (m_running >= std::max(1, m_o.jobs)) {
          continue;
        }
        m_started[i] = true;
        ++m_running;
        progress = true;
        m_threads.emplace_back([this, i] { execute(i); });
      }
    }
    (void)lock;
  }

  bool try_hit(size_t i) {
    const Op& op = m_def.ops[i];
    if (!is_cached_kind(op) || m_o.keys == nullptr || m_o.no_cache) {
      return false;
    }
    const std::string key = m_keys.parts[i].key();
    auto rec = m_o.keys->get(key);
    if (!rec || !*rec) {
      return false;
    }
    const OpResult* parent = op.inputs.empty() ? nullptr : &*m_results[static_cast<size_t>(op.inputs[0])];
    auto r = op_result_from_record(**rec, parent);
    if (!r || !m_runner.result_available(*r)) {
      return false;
    }
    log_warning_and_drop(m_o.keys->touch(key));
    m_started[i] = true;
    m_done[i] = true;
    m_results[i] = std::move(*r);
    SolveEvent ev{SolveEvent::Kind::cache_hit, static_cast<int>(i), key, 0, &*m_results[i], {}};
    emit(ev);
    record_explain(m_o, op, m_keys.parts[i], m_keys.files[i]);
    return true;
  }

  void execute(size_t i) {
    const Op& op = m_def.ops[i];
    std::vector<const OpResult*> inputs;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      for (int in : op.inputs) {
        inputs.push_back(&*m_results[static_cast<size_t>(in)]);
      }
    }
    const std::string key = m_keys.parts[i].key();
    SolveEvent start{SolveEvent::Kind::started, static_cast<int>(i), key, 0, nullptr, {}};
    if (is_cached_kind(op) && !m_o.explain_dir.empty()) {
      start.explanation = m_o.no_cache ? std::vector<std::string>{"--no-cache"}
                                       : explain_miss(m_o, op, m_keys.parts[i], m_keys.files[i]);
    }
    emit(start);
    if (!m_o.debug_keys_dir.empty() && make_dirs(m_o.debug_keys_dir)) {
      log_warning_and_drop(write_file(path_join(m_o.debug_keys_dir, key + ".txt"), m_keys.parts[i].describe()));
    }
    auto t0 = std::chrono::steady_clock::now();
    auto r = m_runner.run(m_def, static_cast<int>(i), inputs, m_cancel);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r) {
      r->key = key;
      if (r->created.empty()) {
        r->created = m_o.now.empty() ? format_rfc3339(now()) : m_o.now;
      }
      if (is_cached_kind(op) && m_o.keys != nullptr) {
        cache::CacheRecord rec;
        rec.key = key;
        rec.result = op_result_to_record(*r);
        rec.created = rec.last_used = kiln::now().seconds;
        if (r->new_layer) {
          rec.blobs.push_back(r->new_layer->digest);
          rec.layers.push_back(r->new_layer->diff_id);
          rec.size = r->new_layer->size;
        }
        log_warning_and_drop(m_o.keys->put(rec));
      }
      record_explain(m_o, op, m_keys.parts[i], m_keys.files[i]);
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    --m_running;
    if (r) {
      m_results[i] = std::move(*r);
      m_done[i] = true;
      emit(SolveEvent{SolveEvent::Kind::finished, static_cast<int>(i), key, secs, &*m_results[i], {}});
    } else {
      emit(SolveEvent{SolveEvent::Kind::failed, static_cast<int>(i), key, secs, nullptr, {}});
      if (!m_error) {
        m_error = wrap_op_error(op, std::move(r).error());
      }
      m_cancel.cancel();
    }
    m_cv.notify_all();
  }

  const Definition& m_def;
  OpRunner& m_runner;
  const SolveOptions& m_o;
  std::vector<bool> m_need;
  KeyState m_keys;
  std::vector<std::optional<OpResult>> m_results;
  std::vector<bool> m_done;
  std::vector<bool> m_started;
  int m_running = 0;
  std::optional<Error> m_error;
  std::vector<std::thread> m_threads;
  std::mutex m_mutex;
  std::mutex m_event_mutex;
  std::condition_variable m_cv;
  CancelToken m_cancel;
};

}  // namespace

Result<SolveResult> solve(const Definition& def, const std::vector<int>& targets, OpRunner& runner,
                          const SolveOptions& options) {
  KILN_TRY(validate_definition(def));
  std::vector<bool> need = needed_ops(def, targets);
  KILN_TRY_ASSIGN(KeyState keys, keys_for(def, need, runner, !options.explain_dir.empty()));
  Scheduler s(def, runner, options, std::move(need), std::move(keys));
  return s.run();
}

}  // namespace kiln::solver

// COPY and ADD (and the --from= sources RUN --mount shares).
#include <sys/stat.h>

#include "frontend/dockerfile/lower_internal.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln::dockerfile {

namespace {

bool is_url(const std::string& s) { return s.starts_with("http://") || s.starts_with("https://"); }

// Git sources as BuildKit recognizes them, plus file:// repositories (a
// local bare repo) when the path names a .git repository.
bool is_git(const std::string& s) {
  if (s.starts_with("git@") || s.starts_with("git://") || s.starts_with("ssh://")) {
    return true;
  }
  std::string url = s.substr(0, s.find('#'));
  bool dot_git = url.ends_with(".git") || url.ends_with(".git/");
  return (s.starts_with("https://") || s.starts_with("http://") || s.starts_with("file://")) && dot_git;
}

solver::GitSource git_source(const std::string& url, bool keep_git_dir) {
  solver::GitSource g;
  std::string u = url;
  auto hash = u.find('#');
  if (hash != std::string::npos) {
    std::string frag = u.substr(hash + 1);
    u = u.substr(0, hash);
    auto colon = frag.find(':');
    g.ref = frag.substr(0, colon);
    if (colon != std::string::npos) {
      g.subdir = frag.substr(colon + 1);
    }
  }
  g.url = u;
  g.keep_git_dir = keep_git_dir;
  return g;
}

// COPY <<EOF dest: each heredoc becomes a file in a generated build context
// named by its content, so the definition stays machine independent.
Result<std::string> heredoc_context(StageCtx& s, const std::vector<parser::SourceContent>& contents) {
  Hasher h("kiln-heredoc-v1");
  for (const auto& c : contents) {
    h.field("path", c.path).field("data", c.data);
  }
  std::string name = "heredoc-" + h.finish_hex().substr(0, 24);
  if (s.l.generated_contexts.count(name) != 0) {
    return name;
  }
  KILN_TRY_ASSIGN(TempDir tmp, TempDir::create("", "kiln-heredoc-"));
  for (const auto& c : contents) {
    std::string clean = path_clean("/" + c.path).substr(1);
    if (clean.empty()) {
      return Error(ErrorCode::invalid_input, cat("invalid heredoc file name `", c.path, "`"));
    }
    std::string file = path_join(tmp.path(), clean);
    KILN_TRY(make_dirs(path_dirname(file)));
    KILN_TRY(write_file(file, c.data, 0644));
  }
  ::chmod(tmp.path().c_str(), 0755);
  s.l.generated_contexts[name] = tmp.path();
  s.l.keep_alive.push_back(std::make_shared<TempDir>(std::move(tmp)));
  return name;
}

}  // namespace

Result<BuildState> from_source(StageCtx& s, const std::string& from) {
  const LowerOptions& o = s.l.opts;
  if (o.named_context_dirs.count(from) != 0) {
    return BuildState::context(from);
  }
  if (o.named_context_images.count(from) != 0) {
    KILN_TRY_ASSIGN(ResolvedImage img, o.resolve_image(o.named_context_images.at(from)));
    return BuildState::image(img);
  }
  int i = s.l.find_stage(from);
  if (i == s.index) {
    return Error(ErrorCode::invalid_input, cat("--from=", from, " names the stage being built (a cycle)"));
  }
  if (i >= 0) {
    return s.l.stage(i);
  }
  if (auto n = parse_uint(from)) {
    return Error(ErrorCode::invalid_input, cat("--from=", from, ": there is no stage with index ", *n));
  }
  KILN_TRY_ASSIGN(ResolvedImage img, o.resolve_image(from).context(cat("--from=", from)));
  return BuildState::image(img);
}

Result<void> lower_copy(StageCtx& s, const parser::Instruction& ins) {
  const auto& c = std::get<parser::CopyInstr>(ins.value);
  bool add = c.kind == parser::Keyword::add;
  CopyOptions co;
  co.dest = c.dest;
  co.chown = c.chown;
  co.chmod = c.chmod;
  co.link = c.link;
  co.parents = c.parents;
  co.exclude = c.excludes;
  co.add = add;
  co.unpack = add && c.unpack.value_or(true);
  co.created_by = cat(ins.original, " # buildkit");
  co.origin = s.origin(ins);
  std::string kw = add ? "ADD" : "COPY";

  if (!c.contents.empty()) {
    KILN_TRY_ASSIGN(std::string ctx, heredoc_context(s, c.contents));
    for (const auto& content : c.contents) {
      co.sources.push_back(content.path);
    }
    co.unpack = false;
    s.state = s.state.copy(BuildState::context(ctx), co);
    return {};
  }
  std::vector<std::string> local;
  for (const auto& src : c.sources) {
    if (add && c.from.empty() && is_git(src)) {
      CopyOptions one = co;
      one.sources = {"."};
      one.unpack = false;
      s.state = s.state.copy(BuildState::git(git_source(src, c.keep_git_dir)), one);
    } else if (add && c.from.empty() && is_url(src)) {
      solver::HttpSource h;
      h.url = src;
      h.checksum = c.checksum;
      std::string path = src.substr(0, src.find_first_of("?#"));
      path = path.substr(path.find("://") + 3);
      auto slash = path.find('/');
      h.filename = slash == std::string::npos ? "" : path_basename(path.substr(slash));
      if (h.filename.empty() || h.filename == "/" || h.filename == "." || h.filename == "..") {
        h.filename = "__unnamed__";  // BuildKit's name for a URL without a file name
      }
      CopyOptions one = co;
      one.sources = {h.filename};
      one.unpack = c.unpack.value_or(false);
      s.state = s.state.copy(BuildState::http(h), one);
    } else if (is_url(src) && !add) {
      return Error(ErrorCode::invalid_input, cat("COPY cannot copy from a URL (`", src, "`); use ADD"));
    } else {
      local.push_back(src);
    }
  }
  if (!c.checksum.empty() && local.size() == c.sources.size()) {
    return Error(ErrorCode::invalid_input, cat(kw, " --checksum applies to URL sources only"));
  }
  if (local.empty()) {
    return {};
  }
  co.sources = local;
  BuildState source = BuildState::context("context", s.l.opts.context_ignore);
  if (!c.from.empty()) {
    KILN_TRY_ASSIGN(source, from_source(s, c.from));
  }
  s.state = s.state.copy(source, co);
  return {};
}

}  // namespace kiln::dockerfile

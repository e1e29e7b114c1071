// COPY / ADD and HEALTHCHECK typing.
#include <array>

#include "parser/heredoc.h"
#include "parser/instructions_internal.h"
#include "parser/values.h"
#include "util/strings.h"

namespace kiln::parser::detail {

namespace {

constexpr std::array<FlagSpec, 6> k_copy_flags{{
    {"chmod", FlagType::string},
    {"chown", FlagType::string},
    {"exclude", FlagType::strings},
    {"from", FlagType::string},
    {"link", FlagType::boolean},
    {"parents", FlagType::boolean},
}};
constexpr std::array<FlagSpec, 7> k_add_flags{{
    {"checksum", FlagType::string},
    {"chmod", FlagType::string},
    {"chown", FlagType::string},
    {"exclude", FlagType::strings},
    {"keep-git-dir", FlagType::boolean},
    {"link", FlagType::boolean},
    {"unpack", FlagType::boolean},
}};

Result<void> sources_and_dest(const Node& node, CopyInstr& c) {
  const std::string name = upper_name(node);
  c.dest = node.args.back();
  KILN_TRY_ASSIGN(std::optional<Heredoc> dest_doc, parse_heredoc_word(c.dest));
  if (dest_doc) {
    return node_error(node, cat(name, " cannot accept a heredoc as a destination"), c.dest);
  }
  for (size_t i = 0; i + 1 < node.args.size(); ++i) {
    const std::string& src = node.args[i];
    Result<std::optional<Heredoc>> h = parse_heredoc_word(src);
    if (h && *h) {
      SourceContent sc;
      sc.path = (*h)->name;
      sc.expand = (*h)->expand;
      for (const Heredoc& doc : node.heredocs) {
        if (doc.name == sc.path) {
          sc.data = doc.chomp ? chomp_heredoc(doc.content) : doc.content;
        }
      }
      c.contents.push_back(std::move(sc));
    } else {
      c.sources.push_back(src);
    }
  }
  return {};
}

}  // namespace

Result<InstructionValue> type_copy(const Node& node) {
  bool add = node.kind == Keyword::add;
  KILN_TRY_ASSIGN(FlagValues flags, add ? node_flags(node, k_add_flags) : node_flags(node, k_copy_flags));
  const std::string name = upper_name(node);
  if (node.args.size() < 2) {
    return node_error(node, cat(name, " requires at least two arguments, but only ", node.args.size(),
                                " was provided. Destination could not be determined"));
  }
  CopyInstr c;
  c.kind = node.kind;
  KILN_TRY(sources_and_dest(node, c));
  c.from = flags.get("from");
  c.chown = flags.get("chown");
  c.chmod = flags.get("chmod");
  c.link = flags.get_bool("link");
  c.parents = flags.get_bool("parents");
  c.keep_git_dir = flags.get_bool("keep-git-dir");
  c.checksum = flags.get("checksum");
  if (flags.has("unpack")) {
    c.unpack = flags.get_bool("unpack");
  }
  c.excludes = flags.get_all("exclude");
  if (flags.has("chmod") && !needs_expansion(c.chmod)) {
    if (Result<Chmod> m = parse_chmod(c.chmod); !m) {
      return node_error(node, m.error().message(), "--chmod");
    }
  }
  if (flags.has("checksum") && !needs_expansion(c.checksum)) {
    if (Result<void> v = validate_checksum(c.checksum); !v) {
      return node_error(node, v.error().message(), "--checksum");
    }
  }
  if (flags.has("from") && c.from.empty()) {
    return node_error(node, "COPY --from needs a stage name, image or context name", "--from");
  }
  return c;
}

Result<InstructionValue> type_healthcheck(const Node& node) {
  static constexpr std::array<FlagSpec, 5> k_flags{{
      {"interval", FlagType::string},
      {"retries", FlagType::string},
      {"start-interval", FlagType::string},
      {"start-period", FlagType::string},
      {"timeout", FlagType::string},
  }};
  if (node.args.empty()) {
    return node_error(node, "HEALTHCHECK requires at least one argument (`NONE` or `CMD ...`)");
  }
  HealthcheckInstr h;
  std::string type = node.args[0];
  for (char& ch : type) {
    if (ch >= 'a' && ch <= 'z') {
      ch = static_cast<char>(ch - 32);
    }
  }
  if (type == "NONE") {
    if (node.args.size() != 1) {
      return node_error(node, "HEALTHCHECK NONE takes no arguments");
    }
    h.test = {"NONE"};
    return h;  // like BuildKit, flags are not looked at for NONE
  }
  KILN_TRY_ASSIGN(FlagValues flags, node_flags(node, k_flags));
  if (type != "CMD") {
    return node_error(node, cat("unknown type ", node.args[0], " in HEALTHCHECK (try CMD)"), node.args[0]);
  }
  if (node.args.size() < 2) {
    return node_error(node, "Missing command after HEALTHCHECK CMD");
  }
  h.test.emplace_back(node.json_form ? "CMD" : "CMD-SHELL");
  h.test.insert(h.test.end(), node.args.begin() + 1, node.args.end());
  int64_t* targets[] = {&h.interval, &h.timeout, &h.start_period, &h.start_interval};
  const char* names[] = {"interval", "timeout", "start-period", "start-interval"};
  for (size_t i = 0; i < 4; ++i) {
    std::string v = flags.get(names[i]);
    if (v.empty()) {
      continue;
    }
    Result<int64_t> d = parse_go_duration(v);
    if (!d) {
      return node_error(node, cat("invalid --", names[i], ": ", d.error().message()), cat("--", names[i]));
    }
    if (*d != 0 && *d < 1000000) {
      return node_error(node, cat("Interval \"", names[i], "\" cannot be less than 1ms"), cat("--", names[i]));
    }
    *targets[i] = *d;
  }
  if (std::string r = flags.get("retries"); !r.empty()) {
    std::optional<int64_t> n = parse_int(r);
    if (!n || *n > 2147483647 || *n < -2147483648LL) {
      return node_error(node, cat("invalid --retries `", r, "`: expected a whole number"), "--retries");
    }
    if (*n < 0) {
      return node_error(node, cat("--retries cannot be negative (", *n, ")"), "--retries");
    }
    h.retries = static_cast<int>(*n);
  }
  return h;
}

}  // namespace kiln::parser::detail

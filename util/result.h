// kiln::Error and kiln::Result<T>: errors as values (STYLE.md C1-C4).
//
// Result<T> is shaped like std::expected<T, Error> (the subset kiln uses:
// has_value, operator bool, value, error, operator*, operator->, Result<void>)
// because libstdc++ 12's <expected> does not compile under clang 14, which
// clang-tidy and libFuzzer need. A later switch to std::expected is a
// search-and-replace.
//
// Usage:
//   Result<int> parse(std::string_view s);
//   Result<void> f() {
//     KILN_TRY_ASSIGN(int n, parse("42"));          // declares n, or returns the error
//     KILN_TRY(write_thing(n).context("writing `thing`"));
//     return {};
//   }
#pragma once

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace kiln {

/// What kind of failure an Error is. The CLI maps codes to exit statuses in
/// one place (frontend/cli); everything else only branches on them.
enum class ErrorCode {
  invalid_input,  ///< bad user input: flags, references, Dockerfile semantics
  not_found,      ///< a named thing does not exist (image, container, file)
  io,             ///< reading or writing files failed
  syscall,        ///< a system call failed (sys_errno says why)
  parse,          ///< text could not be parsed (Dockerfile, JSON, config)
  network,        ///< a connection or HTTP exchange failed
  auth,           ///< credentials missing or refused
  cache_corrupt,  ///< stored content does not match its digest or format
  sandbox,        ///< a build step's sandbox could not be set up
  unsupported,    ///< valid input kiln does not implement
  internal,       ///< a bug in kiln
  usage,          ///< command-line usage error (exit status 2)
  failed_step,    ///< a build step ran and exited non-zero
};

/// Printable name of a code ("invalid_input", ...).
const char* error_code_name(ErrorCode code);

/// Lines of a source file an error refers to (a Dockerfile instruction).
struct SourceRange {
  std::string file;     ///< as the user named it (the `-f` argument)
  int line_begin = 0;   ///< 1-based, inclusive
  int line_end = 0;     ///< 1-based, inclusive
  int column = 0;       ///< 1-based column for a caret, 0 = none
};

/// A failure with structure: a code, the errno if a syscall failed, a message,
/// the context chain added on the way up (outermost first when rendered), an
/// optional hint for known environment problems and an optional source range.
class Error {
 public:
  Error(ErrorCode code, std::string message, int sys_errno = 0)
      : m_code(code), m_sys_errno(sys_errno), m_message(std::move(message)) {}

  /// An error for a failed system call; appends strerror(err) when rendered.
  static Error from_errno(std::string message, int err = errno) {
    return Error(ErrorCode::syscall, std::move(message), err);
  }

  ErrorCode code() const { return m_code; }
  int sys_errno() const { return m_sys_errno; }
  const std::string& message() const { return m_message; }
  const std::vector<std::string>& context() const { return m_context; }
  const std::string& hint() const { return m_hint; }
  const std::optional<SourceRange>& source() const { return m_source; }
  /// Exit status a step reported (failed_step errors), else 0.
  int exit_status() const { return m_exit_status; }

  /// Prepends context ("building stage `app`"); the rendered message reads
  /// from the outermost context to the root cause (crun_error_wrap).
  Error& wrap(std::string context) & {
    m_context.insert(m_context.begin(), std::move(context));
    return *this;
  }
  Error wrap(std::string context) && { return std::move(wrap(std::move(context))); }

  Error& with_hint(std::string hint) & {
    m_hint = std::move(hint);
    return *this;
  }
  Error with_hint(std::string hint) && { return std::move(with_hint(std::move(hint))); }

  Error& with_source(SourceRange range) & {
    m_source = std::move(range);
    return *this;
  }
  Error with_source(SourceRange range) && { return std::move(with_source(std::move(range))); }

  Error& with_exit_status(int status) & {
    m_exit_status = status;
    return *this;
  }
  Error with_exit_status(int status) && { return std::move(with_exit_status(status)); }

  Error& with_code(ErrorCode code) & {
    m_code = code;
    return *this;
  }
  Error with_code(ErrorCode code) && { return std::move(with_code(code)); }

  /// "ctx1: ctx2: message: strerror" on one line, without the hint.
  std::string render() const;

 private:
  ErrorCode m_code;
  int m_sys_errno;
  std::string m_message;
  std::vector<std::string> m_context;
  std::string m_hint;
  std::optional<SourceRange> m_source;
  int m_exit_status = 0;
};

[[noreturn]] void assert_fail(const char* expr, const char* file, int line);

#define KILN_ASSERT(expr) ((expr) ? (void)0 : ::kiln::assert_fail(#expr, __FILE__, __LINE__))

/// Either a T or an Error. Constructible implicitly from both, so functions
/// `return value;` or `return Error(...)`.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is meaningless");

 public:
  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Error> &&
                                        !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : m_v(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}      // NOLINT

  bool has_value() const { return m_v.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return check(), std::get<0>(m_v); }
  const T& value() const& { return check(), std::get<0>(m_v); }
  T&& value() && { return check(), std::move(std::get<0>(m_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(m_v) : static_cast<T>(std::forward<U>(fallback));
  }

  Error& error() & { return std::get<1>(m_v); }
  const Error& error() const& { return std::get<1>(m_v); }
  Error&& error() && { return std::move(std::get<1>(m_v)); }

  /// Adds context to the error, if any; the value passes through.
  Result context(std::string ctx) && {
    if (!has_value()) {
      std::get<1>(m_v).wrap(std::move(ctx));
    }
    return std::move(*this);
  }

 private:
  void check() const {
    if (!has_value()) {
      assert_fail("Result::value() on an error", __FILE__, __LINE__);
    }
  }
  std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)) {}  // NOLINT

  bool has_value() const { return !m_error.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const {
    if (m_error) {
      assert_fail("Result<void>::value() on an error", __FILE__, __LINE__);
    }
  }
  Error& error() & { return *m_error; }
  const Error& error() const& { return *m_error; }
  Error&& error() && { return std::move(*m_error); }

  Result context(std::string ctx) && {
    if (m_error) {
      m_error->wrap(std::move(ctx));
    }
    return std::move(*this);
  }

 private:
  std::optional<Error> m_error;
};

/// Logs a downgraded error as a warning and drops it (STYLE.md C7). Defined in
/// util/log.cc.
void log_warning_and_drop(const Error& error);
template <typename T>
void log_warning_and_drop(Result<T>&& result) {
  if (!result) {
    log_warning_and_drop(result.error());
  }
}

}  // namespace kiln

#define KILN_CONCAT_INNER(a, b) a##b
#define KILN_CONCAT(a, b) KILN_CONCAT_INNER(a, b)

/// Evaluates expr (a Result); on error returns the error from the enclosing
/// function (which must return a Result).
#define KILN_TRY(expr)                                   \
  do {                                                   \
    auto&& kiln_try_result_ = (expr);                    \
    if (!kiln_try_result_) {                             \
      return std::move(kiln_try_result_).error();        \
    }                                                    \
  } while (0)

#define KILN_TRY_ASSIGN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                          \
  if (!tmp) {                                 \
    return std::move(tmp).error();            \
  }                                           \
  decl = std::move(tmp).value()

/// `KILN_TRY_ASSIGN(auto x, f());` declares x from f()'s value, or returns
/// f()'s error. `KILN_TRY_ASSIGN(x, f());` assigns an existing variable.
#define KILN_TRY_ASSIGN(decl, expr) KILN_TRY_ASSIGN_IMPL(KILN_CONCAT(kiln_try_tmp_, __LINE__), decl, expr)

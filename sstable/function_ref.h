// FunctionRef: a non-owning reference to a callable, for callbacks on lookup hot paths.
// Unlike std::function it never allocates and costs one indirect call; the referenced callable
// must outlive the call that receives it (pass lambdas directly as arguments).
//
// Thread safety: a value; calling it is as thread-safe as the callable it refers to.
#ifndef LEARNKV_SSTABLE_FUNCTION_REF_H_
#define LEARNKV_SSTABLE_FUNCTION_REF_H_

#include <memory>
#include <type_traits>
#include <utility>

namespace learnkv {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                                    std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f)  // NOLINT: implicit by design, like a function pointer
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_(&Call<std::remove_reference_t<F>>) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  template <typename F>
  static R Call(void* object, Args... args) {
    return (*static_cast<F*>(object))(std::forward<Args>(args)...);
  }

  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_FUNCTION_REF_H_

// An actor type's table of remotely callable methods. A type names them once,
// in a static member function:
//
//   struct Counter {
//     int add(int k);
//     static void expose(runtime::Methods<Counter>& m) { m.def("add", &Counter::add); }
//   };
//
// Parameters are taken by value or const reference. A call travels as (actor id, index in this table); both sides build
// the same table from the same code, so indices agree on every rank.
#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "runtime/wire.h"

namespace newsrl::runtime {

template <class F>
struct method_traits;
template <class C, class R, class... P>
struct method_traits<R (C::*)(P...)> {
  using owner = C;
  using result = R;
  using params = std::tuple<std::decay_t<P>...>;
  // A remote method cannot write into its caller's variables.
  static constexpr bool params_by_value_or_const_ref =
      ((!std::is_lvalue_reference_v<P> || std::is_const_v<std::remove_reference_t<P>>) && ...);
};
template <class C, class R, class... P>
struct method_traits<R (C::*)(P...) const> : method_traits<R (C::*)(P...)> {};
template <class C, class R, class... P>
struct method_traits<R (C::*)(P...) noexcept> : method_traits<R (C::*)(P...)> {};
template <class C, class R, class... P>
struct method_traits<R (C::*)(P...) const noexcept> : method_traits<R (C::*)(P...)> {};

std::string demangled_type_name(const std::type_info& t);

template <class T>
class Methods {
 public:
  template <class F>
  Methods& def(std::string name, F fn) {
    static_assert(std::is_member_function_pointer_v<F>, "def() takes a member function pointer");
    using Traits = method_traits<F>;
    static_assert(Traits::params_by_value_or_const_ref,
                  "remote methods take their parameters by value or const reference");
    Entry e;
    e.name = std::move(name);
    e.pointer = fn;
    e.invoke = [fn](T& self, wire::Message& call, wire::Message& reply) {
      invoke_with(fn, self, call, reply, typename Traits::params{});
    };
    entries_.push_back(std::move(e));
    return *this;
  }
  // Overrides the name errors use for this type (default: its C++ name).
  Methods& type_name(std::string name) {
    type_name_ = std::move(name);
    return *this;
  }

  const std::string& type_name() const { return type_name_; }
  std::size_t size() const { return entries_.size(); }
  const std::string& name(std::uint32_t i) const { return entries_.at(i).name; }
  // "Type.method"
  const std::string& qualified_name(std::uint32_t i) const { return entries_.at(i).qualified; }

  template <class F>
  std::uint32_t index_of(F fn) const {
    // The same method is usually called many times in a row: remember the last one.
    thread_local F last_fn = nullptr;
    thread_local std::uint32_t last_index = 0;
    if (fn == last_fn) return last_index;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (const F* p = std::any_cast<F>(&entries_[i].pointer); p != nullptr && *p == fn) {
        last_fn = fn;
        last_index = static_cast<std::uint32_t>(i);
        return last_index;
      }
    }
    throw std::logic_error(type_name_ + ": method not registered in " + type_name_ + "::expose()");
  }

  void invoke(std::uint32_t i, T& self, wire::Message& call, wire::Message& reply) const {
    if (i >= entries_.size()) {
      throw std::runtime_error(type_name_ + " has no method number " + std::to_string(i) +
                               " (are all ranks running the same newsrl build?)");
    }
    entries_[i].invoke(self, call, reply);
  }

  // The table of T, built once from T::expose.
  static const Methods& get() {
    static const Methods table = [] {
      Methods m;
      m.type_name_ = demangled_type_name(typeid(T));
      T::expose(m);
      for (Entry& e : m.entries_) e.qualified = m.type_name_ + "." + e.name;
      return m;
    }();
    return table;
  }

 private:
  struct Entry {
    std::string name;
    std::string qualified;
    std::any pointer;
    std::function<void(T&, wire::Message&, wire::Message&)> invoke;
  };

  template <class F, class... P>
  static void invoke_with(F fn, T& self, wire::Message& call, wire::Message& reply, std::tuple<P...>) {
    auto args = wire::read_body<P...>(call);
    using R = typename method_traits<F>::result;
    if constexpr (std::is_void_v<R>) {
      std::apply([&](auto&... a) { (self.*fn)(std::move(a)...); }, args);
    } else {
      auto result = std::apply([&](auto&... a) -> R { return (self.*fn)(std::move(a)...); }, args);
      wire::write_body(reply, static_cast<const std::decay_t<R>&>(result));
    }
  }

  std::vector<Entry> entries_;
  std::string type_name_;
};

template <class T>
concept Actor = requires(Methods<T>& m) {
  T::expose(m);
};

}  // namespace newsrl::runtime

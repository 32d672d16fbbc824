// One group of `newsrl` subcommands (model, ckpt, data, ...): each group adds
// its subcommands to the app and returns a Runner that main() calls after
// parsing. A Runner returns nullopt when none of its subcommands was chosen,
// so main() can ask each group in turn.
#pragma once

#include <functional>
#include <optional>

namespace newsrl::launch {

using Runner = std::function<std::optional<int>()>;

}  // namespace newsrl::launch

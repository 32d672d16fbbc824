// newsrl: one binary, one subcommand per job. Run `newsrl --help`.
#include <CLI/CLI.hpp>
#include <iostream>

#include "actors/doctor.h"
#include "actors/roles.h"
#include "launch/ckpt_command.h"
#include "launch/clean_command.h"
#include "launch/config.h"
#include "launch/data_command.h"
#include "launch/eval_command.h"
#include "launch/index_command.h"
#include "launch/model_command.h"
#include "launch/policy_eval_command.h"
#include "launch/report_command.h"
#include "launch/experiment_command.h"
#include "launch/run_command.h"
#include "launch/threads.h"
#include "launch/tokenizer_command.h"
#include "launch/train_command.h"
#include "runtime/cluster.h"
#include "runtime/errors.h"
#include "runtime/failure.h"
#include "runtime/h5_file.h"

namespace {

using namespace newsrl;

constexpr const char* kVersion = "0.1.0";

int doctor(int& argc, char**& argv, const std::string& config_path, const actors::DoctorOptions& options) {
  toml::table config;
  if (!config_path.empty()) {
    config = launch::load_config(config_path);  // any run config: the doctor reads only its placement
  }
  const toml::table* table = config["placement"].as_table();
  std::vector<std::string> known = actors::role_names();
  known.push_back(actors::kNodeRole);
  runtime::PlacementSpec spec = runtime::PlacementSpec::from_toml(
      table, config_path.empty() ? "[placement]" : config_path + " [placement]", known, actors::role_names());
  if (spec.requests.contains(actors::kNodeRole)) {
    throw runtime::ConfigError(spec.source + " \"" + actors::kNodeRole + "\" is the doctor's own role; remove it");
  }
  spec.add_all(actors::kNodeRole);
  runtime::Cluster cluster(argc, argv, spec);
  return actors::run_doctor(cluster, options, std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  const bool speaks = launch::launch_rank() == 0;  // only rank 0 prints usage and config errors
  launch::share_cores_among_local_ranks();
  CLI::App app{
      "newsrl: learns the news a person wants from their cross-domain signals.\n"
      "Run under mpirun or srun for several ranks; alone it is one rank."};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);
  // A command-line mistake is one line, like every other error.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "newsrl: " + std::string(e.what()) + " (--help lists the options)\n";
  });

  std::string config_path;
  actors::DoctorOptions doc;
  double bandwidth_mib = 16;
  CLI::App* doctor_cmd = app.add_subcommand(
      "doctor",
      "Check the cluster before a long job: placement, a ping of every actor, latency and bandwidth to "
      "every rank, an all-reduce on every role group; --seconds keeps going as a soak. Exit 0 when all is well.");
  doctor_cmd->add_option("--config", config_path, "Run config (TOML); only its [placement] is read")
      ->check(CLI::ExistingFile);
  doctor_cmd->add_option("--seconds", doc.seconds, "Soak: repeat the checks for this long")
      ->check(CLI::NonNegativeNumber);
  doctor_cmd->add_option("--pings", doc.pings, "Empty round trips per rank for the latency numbers")
      ->check(CLI::Range(1, 1000000));
  doctor_cmd->add_option("--bandwidth-mib", bandwidth_mib, "Size of the bandwidth transfer, MiB (0: skip)")
      ->check(CLI::Range(0.0, 4096.0));
  doctor_cmd->add_flag("--json", doc.json, "One JSON object per line instead of tables");

  // One line per group of subcommands; main asks each in turn.
  std::vector<launch::Runner> groups = {
      launch::add_model_commands(app),
      launch::add_train_commands(app, kVersion),
      launch::add_ckpt_commands(app),
      launch::add_tokenizer_commands(app),
      launch::add_data_commands(app),
      launch::add_index_commands(app),
      launch::add_eval_commands(app),
      launch::add_clean_commands(app),
      launch::add_run_commands(app, kVersion),
      launch::add_experiment_commands(app, kVersion),
      launch::add_report_commands(app),
      launch::add_generate_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream sink;
    return app.exit(e, speaks ? std::cout : sink, speaks ? std::cerr : sink);
  }

  try {
    if (*doctor_cmd) {
      doc.bandwidth_bytes = static_cast<std::size_t>(bandwidth_mib * 1024 * 1024);
      return doctor(argc, argv, config_path, doc);
    }
    for (const launch::Runner& group : groups) {
      if (std::optional<int> status = group()) return *status;
    }
    return 1;  // unreachable: CLI11 requires one subcommand
  } catch (const runtime::ConfigError& e) {
    // Every rank finds the same mistake. Rank 0 reports it and exits 2; the
    // others exit 0, so that mpirun, which kills the job at the first
    // non-zero exit, cannot kill rank 0 before it has spoken.
    if (speaks) std::cerr << "newsrl: " << e.what() << "\n";
    return speaks ? 2 : 0;
  } catch (const std::invalid_argument& e) {  // bad input to a single-process command
    std::cerr << "newsrl: " << e.what() << "\n";
    return 2;
  } catch (const runtime::H5Error& e) {
    std::cerr << "newsrl: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    runtime::fail_job(e.what());
  }
  return 0;
}

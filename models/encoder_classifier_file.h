// An encoder classifier in a checkpoint file (runtime/checkpoint.h: atomic,
// checksummed), in the same layout as a causal LM: every parameter as a
// float32 dataset /model/<Hugging Face name>, the config as a JSON string
// attribute `config` on the root group (EncoderConfig's Hugging Face field
// names), and a root attribute model_kind = "encoder_classifier" that tells
// it from a causal LM (whose files carry no model_kind).
#pragma once

#include <string>

#include "models/encoder_classifier.h"
#include "runtime/checkpoint.h"

namespace newsrl::models {

inline constexpr const char* kEncoderClassifierKind = "encoder_classifier";

// Writes the classifier's parameters, config and model_kind into an open checkpoint.
void write_classifier(runtime::CheckpointWriter& out, const EncoderClassifier& model);
// A checkpoint holding just the classifier, written atomically.
void save_classifier(const EncoderClassifier& model, const std::string& path);

// The config stored in a classifier checkpoint; throws runtime::H5Error with
// one line when the file holds another kind of model (a causal LM, say).
EncoderConfig read_classifier_config(const runtime::H5File& file);
// Reads the parameters into `model`, checking shapes, types and checksums:
// one line naming the file and the first missing, misshapen, mistyped or
// damaged dataset.
void read_classifier(const runtime::H5File& file, EncoderClassifier& model);
EncoderClassifier load_classifier(const std::string& path);

}  // namespace newsrl::models

// The CPU backend: float32 kernels on OpenBLAS and OpenMP. Each family of ops
// lives in its own file and fills its entries of the table.
#pragma once

#include "kernels/ops.h"

namespace newsrl::kernels::cpu {

const OpTable& table();

// Below about this many element-operations a kernel runs on one thread: waking
// the OpenMP team costs more than it saves (decoding a small model spent a
// third of its time in libgomp's barriers). One thread or many, every output
// element is computed the same way, so results do not change.
inline constexpr std::int64_t kParallelWork = 1 << 15;

void register_matmul(OpTable& t);       // matmul.cpp
void register_elementwise(OpTable& t);  // elementwise.cpp: add, mul, accumulate, scale, fill, copy, sum_squares,
                                        //   bias, unary activations, swiglu, dropout
void register_norms(OpTable& t);        // norms.cpp: rmsnorm, layernorm
void register_embedding(OpTable& t);    // embedding.cpp
void register_softmax(OpTable& t);      // softmax.cpp: softmax, log-softmax, cross-entropy, argmax_rows
void register_sample(OpTable& t);       // sample.cpp: sampling with a temperature, top-k and top-p
void register_rope(OpTable& t);         // rope.cpp
void register_attention(OpTable& t);    // attention.cpp
void register_optimizer(OpTable& t);    // optimizer.cpp: AdamW
void register_policy_loss(OpTable& t);  // policy_loss.cpp: the clipped PPO / Dr.GRPO objective

}  // namespace newsrl::kernels::cpu

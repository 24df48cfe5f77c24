"""diffusers → original (CompVis / A1111) key layout for SD 1.x single-file checkpoints.

diffusers reads original-layout files (``from_single_file``) but ships no writer in the
package (only a repository script with the block counts of full-size SD hard-coded), so this
is the inverse mapping written for any number of blocks and layers, driven by the configs.
"""

from __future__ import annotations

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
CLIP_PREFIX = "cond_stage_model.transformer.text_model."

_UNET_TOP_LEVEL = {
    "time_embedding.linear_1.": "time_embed.0.",
    "time_embedding.linear_2.": "time_embed.2.",
    "conv_in.": "input_blocks.0.0.",
    "conv_norm_out.": "out.0.",
    "conv_out.": "out.2.",
}
_UNET_RESNET_PARTS = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
_VAE_ATTENTION_PARTS = {
    "group_norm.": "norm.",
    "to_q.": "q.",
    "to_k.": "k.",
    "to_v.": "v.",
    "to_out.0.": "proj_out.",
}


def _unet_block_prefixes(config) -> dict[str, str]:
    """diffusers block prefix → original prefix, from the UNet's block and layer counts."""
    blocks = len(config.block_out_channels)
    layers = config.layers_per_block
    stride = layers + 1  # original input/output blocks per level: layers (+ a resampler)
    mapping = {}
    for i in range(blocks):
        for j in range(layers):
            mapping[f"down_blocks.{i}.resnets.{j}."] = f"input_blocks.{stride * i + j + 1}.0."
            mapping[f"down_blocks.{i}.attentions.{j}."] = f"input_blocks.{stride * i + j + 1}.1."
        if i < blocks - 1:
            mapping[f"down_blocks.{i}.downsamplers.0.conv."] = f"input_blocks.{stride * (i + 1)}.0.op."
        has_attention = "CrossAttn" in config.up_block_types[i]
        for j in range(layers + 1):
            mapping[f"up_blocks.{i}.resnets.{j}."] = f"output_blocks.{stride * i + j}.0."
            mapping[f"up_blocks.{i}.attentions.{j}."] = f"output_blocks.{stride * i + j}.1."
        if i < blocks - 1:
            slot = 2 if has_attention else 1
            mapping[f"up_blocks.{i}.upsamplers.0."] = f"output_blocks.{stride * i + layers}.{slot}."
    mapping["mid_block.resnets.0."] = "middle_block.0."
    mapping["mid_block.attentions.0."] = "middle_block.1."
    mapping["mid_block.resnets.1."] = "middle_block.2."
    return mapping


def unet_to_original(unet) -> dict:
    blocks = _unet_block_prefixes(unet.config)
    converted = {}
    for key, value in unet.state_dict().items():
        new = key
        for old, replacement in _UNET_TOP_LEVEL.items():
            if new.startswith(old):
                new = replacement + new[len(old):]
        if "resnets" in key:
            head, _, tail = new.rpartition("resnets.")
            index, _, rest = tail.partition(".")
            for old, replacement in _UNET_RESNET_PARTS.items():
                if rest.startswith(old + "."):
                    rest = replacement + rest[len(old):]
            new = f"{head}resnets.{index}.{rest}"
        for old, replacement in blocks.items():
            if new.startswith(old):
                new = replacement + new[len(old):]
                break
        converted[UNET_PREFIX + new] = value
    return converted


def vae_to_original(vae) -> dict:
    blocks = len(vae.config.block_out_channels)
    prefixes = {"encoder.mid_block.resnets.0.": "encoder.mid.block_1.",
                "encoder.mid_block.resnets.1.": "encoder.mid.block_2.",
                "decoder.mid_block.resnets.0.": "decoder.mid.block_1.",
                "decoder.mid_block.resnets.1.": "decoder.mid.block_2.",
                "encoder.mid_block.attentions.0.": "encoder.mid.attn_1.",
                "decoder.mid_block.attentions.0.": "decoder.mid.attn_1.",
                "encoder.conv_norm_out.": "encoder.norm_out.",
                "decoder.conv_norm_out.": "decoder.norm_out."}
    for i in range(blocks):
        prefixes[f"encoder.down_blocks.{i}.resnets."] = f"encoder.down.{i}.block."
        prefixes[f"encoder.down_blocks.{i}.downsamplers.0."] = f"encoder.down.{i}.downsample."
        # The original decoder numbers its levels from the lowest resolution up.
        prefixes[f"decoder.up_blocks.{i}.resnets."] = f"decoder.up.{blocks - 1 - i}.block."
        prefixes[f"decoder.up_blocks.{i}.upsamplers.0."] = f"decoder.up.{blocks - 1 - i}.upsample."
    converted = {}
    for key, value in vae.state_dict().items():
        new = key
        for old, replacement in prefixes.items():
            if new.startswith(old):
                new = replacement + new[len(old):]
                break
        new = new.replace(".conv_shortcut.", ".nin_shortcut.")
        if ".attn_1." in new:
            head, _, rest = new.partition(".attn_1.")
            for old, replacement in _VAE_ATTENTION_PARTS.items():
                if rest.startswith(old):
                    rest = replacement + rest[len(old):]
            new = f"{head}.attn_1.{rest}"
            if rest.endswith("weight") and value.ndim == 2 and not rest.startswith("norm."):
                value = value.reshape(*value.shape, 1, 1)  # linear → the original 1×1 conv
        converted[VAE_PREFIX + new] = value
    return converted


def text_encoder_to_original(text_encoder) -> dict:
    # transformers 5 flattened CLIPTextModel: its keys lack the ``text_model.`` level that
    # original checkpoints (and diffusers' reader) expect, so it is normalised here.
    return {CLIP_PREFIX + key.removeprefix("text_model."): value
            for key, value in text_encoder.state_dict().items()
            if not key.endswith("position_ids")}


def original_layout_state_dict(unet, vae, text_encoder) -> dict:
    return {**unet_to_original(unet), **vae_to_original(vae),
            **text_encoder_to_original(text_encoder)}


# SD 2.x: the text encoder is OpenCLIP's, stored in its own layout (fused q/k/v ``in_proj``).
OPEN_CLIP_PREFIX = "cond_stage_model.model."
_OPEN_CLIP_TOP_LEVEL = {
    "embeddings.token_embedding.weight": "token_embedding.weight",
    "embeddings.position_embedding.weight": "positional_embedding",
    "final_layer_norm.weight": "ln_final.weight",
    "final_layer_norm.bias": "ln_final.bias",
}
_OPEN_CLIP_LAYER_PARTS = {"self_attn.out_proj.": "attn.out_proj.", "layer_norm1.": "ln_1.",
                          "layer_norm2.": "ln_2.", "mlp.fc1.": "mlp.c_fc.", "mlp.fc2.": "mlp.c_proj."}


def open_clip_text_encoder_to_original(text_encoder) -> dict:
    """A CLIPTextModel as SD 2.x checkpoints store OpenCLIP: ``transformer.resblocks.N`` with
    q, k and v fused into ``attn.in_proj_*``, plus a ``text_projection`` (identity here: the
    pipeline does not use it, diffusers reads its width)."""
    from engine.runtime import import_torch

    torch = import_torch()
    state = {key.removeprefix("text_model."): value
             for key, value in text_encoder.state_dict().items() if not key.endswith("position_ids")}
    converted = {OPEN_CLIP_PREFIX + new: state[old] for old, new in _OPEN_CLIP_TOP_LEVEL.items()}
    for layer in range(text_encoder.config.num_hidden_layers):
        head = f"encoder.layers.{layer}."
        target = f"{OPEN_CLIP_PREFIX}transformer.resblocks.{layer}."
        for kind in ("weight", "bias"):
            converted[f"{target}attn.in_proj_{kind}"] = torch.cat(
                [state[f"{head}self_attn.{p}_proj.{kind}"] for p in "qkv"])
        for old, new in _OPEN_CLIP_LAYER_PARTS.items():
            for kind in ("weight", "bias"):
                converted[f"{target}{new}{kind}"] = state[f"{head}{old}{kind}"]
    converted[OPEN_CLIP_PREFIX + "text_projection"] = torch.eye(text_encoder.config.hidden_size)
    return converted

"""PyTorch models of the conversion zoo: the architectures scientists use, small, random weights.

Importing this module imports torch; the classes are importable by name
(``tests.torch_zoo:ResNetSmall``) so a state_dict can name its class.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class ResNetSmall(nn.Module):
    """A ResNet-style CNN: stem, two residual blocks, global pooling, classifier (3x16x16 -> 5)."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(ResidualBlock(8), ResidualBlock(8))
        self.head = nn.Linear(8, classes)

    def forward(self, x):
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


class LSTMRegressor(nn.Module):
    """A two-layer LSTM over a sequence (N, 12, 4), its last step to 2 numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 16, num_layers=2, batch_first=True)
        self.out = nn.Linear(16, 2)

    def forward(self, x):
        sequence, _ = self.lstm(x)
        return self.out(sequence[:, -1])


class TransformerClassifier(nn.Module):
    """nn.TransformerEncoder over (N, 10, 16) features, mean-pooled to 3 classes."""

    def __init__(self) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.encoder(x).mean(dim=1))


class TinyBert(nn.Module):
    """A Hugging Face BERT built from a tiny config (no download): token ids (N, 8) -> pooled output."""

    def __init__(self) -> None:
        super().__init__()
        from transformers import BertConfig, BertModel

        config = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=32, max_position_embeddings=16, hidden_dropout_prob=0.0,
                            attention_probs_dropout_prob=0.0)
        self.bert = BertModel(config, add_pooling_layer=True)

    def forward(self, input_ids):
        return self.bert(input_ids=input_ids).pooler_output


# name -> (class, the input the user gives with --input, a dtype-correct example batch)
ZOO = {
    "resnet": (ResNetSmall, "x:N,3,16,16:float32"),
    "lstm": (LSTMRegressor, "x:N,12,4:float32"),
    "transformer": (TransformerClassifier, "x:N,10,16:float32"),
    "bert": (TinyBert, "input_ids:N,8:int64"),
}


def build(name: str) -> nn.Module:
    torch.manual_seed(0)
    model = ZOO[name][0]().eval()
    for module in model.modules():  # batch-norm statistics that are not the identity
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
    return model


def example(name: str, batch: int = 3) -> torch.Tensor:
    shape = [int(d) for d in ZOO[name][1].split(":")[1].split(",")[1:]]
    if name == "bert":
        return torch.randint(0, 40, (batch, *shape))
    return torch.randn(batch, *shape)


def save_program(name: str, path: Path) -> Path:
    """The model as a torch.export program (.pt2) with a dynamic batch: it carries its own signature."""
    batch = torch.export.Dim("N", min=1, max=1024)
    program = torch.export.export(build(name), (example(name),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    return path


def save_state_dict(name: str, path: Path) -> Path:
    torch.save(build(name).state_dict(), str(path))
    return path

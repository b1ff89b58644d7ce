"""A subclassed Keras model, registered with Keras: loading a file of it needs this module imported
(``--model-class tests.keras_custom:ResidualMLP``)."""

import keras


@keras.saving.register_keras_serializable(package="hpcfair_tests")
class ResidualMLP(keras.Model):
    def __init__(self, width: int = 8, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.inner = keras.layers.Dense(width, activation="tanh")
        self.head = keras.layers.Dense(3, name="head")

    def call(self, x):
        return self.head(x + self.inner(x))

    def get_config(self):
        return {**super().get_config(), "width": self.width}


def save(path):
    keras.utils.set_random_seed(0)
    model = ResidualMLP()
    model(keras.ops.zeros((1, 8)))  # built: its weights exist
    model.save(str(path))
    return path

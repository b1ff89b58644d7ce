"""An estimator class of the user's own: a type skops does not know, so hpcfair does not trust it."""

from sklearn.base import BaseEstimator, TransformerMixin


class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.n_features_in_ = len(X[0])
        return self

    def transform(self, X):
        return [[2 * v for v in row] for row in X]

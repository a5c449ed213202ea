"""docs/configuration.md's environment table is the settings models' (generated)."""

import pytest

from frameforge import settings_docs
from frameforge_core.settings import FromEnvironment


def test_the_environment_table_is_current():
    page = settings_docs.PAGE.read_text()
    assert page == settings_docs.rewritten(page), (
        f"{settings_docs.PAGE.name}'s environment table is behind the settings models: "
        f"run `{settings_docs.COMMAND}`"
    )


def test_every_variable_of_the_models_is_in_the_table():
    page = settings_docs.PAGE.read_text()
    for model in settings_docs.MODELS:
        for name, field in model.model_fields.items():
            assert f"`{settings_docs.names(name, field)[0]}`" in page, (model, name)
            assert field.description, f"{model.__name__}.{name} has no description"


def test_a_page_without_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        settings_docs.rewritten("# Configuration\n")


def test_every_settings_model_has_its_table():
    """A model added to frameforge_core.settings (or the API's, the worker's) is listed."""

    def models(base: type) -> set[type]:
        return {sub for child in base.__subclasses__() for sub in {child, *models(child)}}

    assert models(FromEnvironment) == set(settings_docs.MODELS)

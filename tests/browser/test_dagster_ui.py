"""What an operator sees in the Dagster UI once a video went through: the asset graph, the
partition's materialization with its metadata and first-frame preview, and the schedules."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Processed, graphql

pytestmark = pytest.mark.slow

EXTRACTION = ["source_video", "frames", "manifest", "frames_zip", "frame_index"]
SCHEDULES = ["frame_index_compaction", "nightly_backfill"]


@pytest.fixture
def ui(page: Page, stack) -> Page:
    """The Dagster UI without its first-visit "join the community" dialog (as if seen)."""
    graphql(stack.dagster, "mutation { setNuxSeen }")
    return page


def test_the_asset_graph_shows_every_asset_of_the_extraction(ui: Page, stack, screenshot):
    nodes = graphql(stack.dagster, "{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
    extraction = [n["assetKey"]["path"][-1] for n in nodes if n["groupName"] == "extraction"]
    assert set(EXTRACTION) <= set(extraction)

    ui.goto(f"{stack.dagster}/locations/frameforge/asset-groups/extraction")
    graph = ui.locator("svg foreignObject")
    for name in extraction:
        expect(graph.get_by_text(name, exact=True)).to_be_visible()
    screenshot(ui, "asset-graph")


def test_a_partition_shows_its_materialization_metadata_and_first_frame(
    ui: Page, stack, processed: Processed, screenshot
):
    ui.goto(f"{stack.dagster}/assets/frames?view=partitions&partition={processed.partition}")
    shown = ui.get_by_text(processed.partition, exact=True).filter(visible=True)
    expect(shown.first).to_be_visible()  # the partition is selected and its state shown
    expect(ui.get_by_text("Materialized", exact=True).filter(visible=True).first).to_be_visible()

    def metadata(key: str):  # the value cell of one row of the metadata table
        return ui.locator("tr", has=ui.get_by_text(key, exact=True)).locator("td").nth(1)

    expect(metadata("frame_count")).to_have_text(str(processed.job["frameCount"]))
    expect(metadata("expected_frames")).to_have_text("5")
    # whose it is: what an operator finds a partition by
    expect(metadata("job_id")).to_have_text(processed.job["jobId"])
    expect(metadata("file_name")).to_have_text("harbour.mp4")
    screenshot(ui, "partition-materialization")

    metadata("first_frame").get_by_text("[Show Markdown]").click()
    preview = ui.get_by_role("dialog").locator("img")
    expect(preview).to_be_visible()
    assert preview.evaluate("image => image.complete && image.naturalWidth") > 0
    assert preview.get_attribute("src").startswith("data:image/jpeg;base64,")
    screenshot(ui, "first-frame-preview")

    ui.goto(f"{stack.dagster}/assets/source_video?view=partitions&partition={processed.partition}")
    expect(metadata("codec")).to_have_text("h264")
    expect(metadata("width")).to_have_text("640")


def test_the_schedules_are_listed_running_with_the_sensors(ui: Page, stack, screenshot):
    [repository] = graphql(
        stack.dagster,
        "{ repositoriesOrError { ... on RepositoryConnection { nodes {"
        " schedules { name scheduleState { status } } } } } }",
    )["repositoriesOrError"]["nodes"]
    schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    assert set(SCHEDULES) <= schedules.keys()
    assert set(schedules.values()) == {"RUNNING"}  # on by default, nothing to switch on

    ui.goto(f"{stack.dagster}/automation")
    for name in schedules:
        row = ui.locator("[data-index]", has=ui.locator(f'a[href$="/schedules/{name}"]'))
        expect(row).to_contain_text("Scheduled At")  # and when
        expect(row.locator("input[type=checkbox]").last).to_be_checked()  # its switch: on
    sensor = ui.locator("[data-index]", has=ui.locator('a[href$="/sensors/job_queue"]'))
    expect(sensor.locator("input[type=checkbox]").last).to_be_checked()  # next to the sensors
    screenshot(ui, "schedules")

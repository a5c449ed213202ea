from fastapi import APIRouter

from frameforge_api.api.routes import auth, jobs, storyboard, videos
from frameforge_api.api.schemas import problem_responses

# every problem a route under /api/v1 can answer with (415: a body not sent as JSON;
# 503: a store briefly unreachable)
ERRORS = problem_responses(400, 401, 403, 404, 409, 410, 413, 415, 422, 429, 500, 503)
api_router = APIRouter(prefix="/api/v1", responses=ERRORS)
api_router.include_router(auth.router)
api_router.include_router(videos.router)
api_router.include_router(jobs.router)
api_router.include_router(storyboard.router)
